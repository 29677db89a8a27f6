// Package reliability holds mochi's long-running reliability tests: hostile configurations,
// crashes in the middle of `mochi up`, concurrent ups, faults from outside (killed
// containers, restarted gateway), gateway load and security checks. They drive the real
// mochi binary against a real engine. All of them live in _test.go files; this file only
// documents the package. See RELIABILITY.md at the repository root for what each test does,
// how to run it and its last figures.
//
// The tests are named TestReliability* and run only when asked: with RELIABILITY=1 in the
// environment, or with a -run pattern that mentions Reliability (`make test-reliability`
// runs `go test -run Reliability ./...`). Engine-backed tests also need
// MOCHI_TEST_ENGINES=docker.
package reliability
