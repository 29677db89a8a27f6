// Package idetest holds end-to-end tests of IDE clients against mochi workspaces: what VS Code
// Remote-SSH does (install script over `ssh -T bash`, a VS Code server reached through a SOCKS
// tunnel and a unix socket, the workbench rendered in headless Chromium), what JetBrains
// Gateway does (many short exec sessions, an SFTP upload that is then run, a long idle
// direct-tcpip channel) and port forwarding as an IDE relies on it. The tests need the Docker
// engine (MOCHI_TEST_ENGINES=docker); the VS Code ones also need the cache that
// scripts/install-ide-deps.sh fills. See README.md.
package idetest
