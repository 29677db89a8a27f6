// Package difftest holds differential tests: each case is a fixture workspace (testdata/<case>)
// and a script of steps (up, exec, stop, read-configuration, ...) whose user-visible results are
// recorded as observations. The same script runs once with the reference CLI
// (@devcontainers/cli) and once with mochi, and the two observation lists must be equal after
// normalising what legitimately differs (host paths, container ids, timestamps). Cross-tool
// cases also run "reference then mochi" and "mochi then reference" against the same container.
//
// The reference's observations are kept as golden files (testdata/golden, refreshed with
// `go test ./difftest -update`), so the reference side alone is a real test too: it checks the
// fixtures and the harness and pins the reference behaviour mochi must match.
//
// The tests need Docker and the reference CLI and run only when MOCHI_TEST_ENGINES names
// docker. mochi's side runs when MOCHI_BIN (default ../bin/mochi) implements the commands a
// case needs; see README.md in this folder.
package difftest
