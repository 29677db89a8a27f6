package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is all terminal I/O of a command; tests build one over buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY and OutTTY say whether In and Out are terminals.
	InTTY, OutTTY bool
	// Getenv and LookupEnv read the environment.
	LookupEnv func(string) (string, bool)
}

func systemIO() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:     term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY:    term.IsTerminal(int(os.Stdout.Fd())),
		LookupEnv: os.LookupEnv,
	}
}
