package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"mochi": func() { os.Exit(Main(os.Args[1:], systemIO())) },
	})
}

// TestScripts runs the user stories under testdata/script that need no engine.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
