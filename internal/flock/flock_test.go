package flock

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestTryLockExcludesOtherOpenFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "a.lock")
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %o, want 600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Errorf("lock folder mode %o, want 700", dst.Mode().Perm())
	}
	// flock(2) locks belong to the open file, so a second open in this process conflicts.
	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock: %v, want ErrLocked", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("second Unlock: %v", err)
	}
	l2, err := TryLock(path)
	if err != nil {
		t.Fatalf("TryLock after Unlock: %v", err)
	}
	l2.Unlock()
}

func TestAcquireHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire on a held lock: %v, want DeadlineExceeded", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := Acquire(ctx2, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a cancelled context: %v, want Canceled", err)
	}
}

func TestAcquireWaitsForRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		l2, err := Acquire(context.Background(), path)
		if err == nil {
			err = l2.Unlock()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Acquire returned while the lock was held: %v", err)
	case <-time.After(30 * time.Millisecond):
	}
	l.Unlock()
	if err := <-got; err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
}

// TestMutualExclusion increments a counter file from many goroutines, each under the lock:
// a lost update means two holders at once.
func TestMutualExclusion(t *testing.T) {
	dir := t.TempDir()
	path, counter := filepath.Join(dir, "c.lock"), filepath.Join(dir, "counter")
	if err := os.WriteFile(counter, []byte("0"), 0o600); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				l, err := Acquire(context.Background(), path)
				if err != nil {
					errs <- err
					return
				}
				b, _ := os.ReadFile(counter)
				n, _ := strconv.Atoi(string(b))
				time.Sleep(100 * time.Microsecond)
				os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o600)
				l.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(counter)
	if string(b) != strconv.Itoa(workers*rounds) {
		t.Fatalf("counter %s, want %d: two holders at once", b, workers*rounds)
	}
}

// TestKilledHolderReleases holds the lock in a child process, checks the parent cannot
// take it, kills the child with SIGKILL and checks the lock is free: no stale lock after a
// crash.
func TestKilledHolderReleases(t *testing.T) {
	if os.Getenv("FLOCK_TEST_HOLD") != "" {
		l, err := TryLock(os.Getenv("FLOCK_TEST_HOLD"))
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		l.Unlock()
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "a.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledHolderReleases$")
	cmd.Env = append(os.Environ(), "FLOCK_TEST_HOLD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "held\n" {
		t.Fatalf("child: %q %v", line, err)
	}
	if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock while a child holds it: %v, want ErrLocked", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Acquire(ctx, path)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Unlock()
}

func TestWith(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.lock")
	sentinel := errors.New("from fn")
	err := With(context.Background(), path, func() error {
		if _, err := TryLock(path); !errors.Is(err, ErrLocked) {
			t.Errorf("TryLock inside With: %v, want ErrLocked", err)
		}
		return sentinel
	})
	if !errors.Is(err, sentinel) {
		t.Fatalf("With returned %v, want fn's error", err)
	}
	l, err := TryLock(path)
	if err != nil {
		t.Fatalf("lock still held after With: %v", err)
	}
	l.Unlock()
}
