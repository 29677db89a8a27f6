package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// mochiHome returns mochi's data folder ($MOCHI_HOME, default ~/.mochi), creating it
// owner-only and refusing one that other users can read or write: it holds keys.
func mochiHome(ios *IOStreams) (string, error) {
	home, ok := ios.LookupEnv("MOCHI_HOME")
	if !ok || home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find mochi's data folder: %w (set MOCHI_HOME)", err)
		}
		home = filepath.Join(h, ".mochi")
	}
	home, err := filepath.Abs(home)
	if err != nil {
		return "", fmt.Errorf("find mochi's data folder: %w", err)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", fmt.Errorf("create mochi's data folder: %w", err)
	}
	st, err := os.Stat(home)
	if err != nil {
		return "", fmt.Errorf("mochi's data folder: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("mochi's data folder %s is open to other users (mode %o): run chmod 700 %s", home, st.Mode().Perm(), home)
	}
	return home, nil
}
