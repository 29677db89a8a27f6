// Command agentmain is a stand-in for `mochi agent serve --stdio` in the agent's Docker
// test: the agent on its stdio, as a static binary mounted into a container.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mochi-dev/mochi/agent"
)

func main() {
	if err := agent.Serve(context.Background(), agent.Stdio(), agent.Options{Private: true}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
