package workspace_test

import (
	"context"
	"sync"
	"testing"

	"github.com/mochi-dev/mochi/workspace"
)

// TestConcurrentUpsOneContainer: two ups of the same workspace at once give one container
// and run the creation hooks once (the second waits for the workspace lock).
func TestConcurrentUpsOneContainer(t *testing.T) {
	h := newHarness(t, map[string]string{".devcontainer.json": `{"image": "mochi-test/debian:bookworm",
		"postCreateCommand": "echo created >> hooks.log"}`}, true)
	var wg sync.WaitGroup
	ids := make([]string, 2)
	errs := make([]error, 2)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h.up(workspace.UpOptions{})
			errs[i] = err
			if res != nil {
				ids[i] = res.ContainerID
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("up: %v\n%s", err, h.out)
		}
	}
	if ids[0] != ids[1] {
		t.Errorf("two ups made two containers: %s and %s", ids[0], ids[1])
	}
	insts, _ := h.be.List(context.Background(), map[string]string{"devcontainer.local_folder": h.folder})
	if len(insts) != 1 {
		t.Errorf("%d containers for one workspace", len(insts))
	}
	if got := h.hookLog(); got != "created" {
		t.Errorf("postCreateCommand ran %q, want once", got)
	}
}
