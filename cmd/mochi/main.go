// Command mochi brings up development containers from devcontainer.json on Docker, LXC or
// QEMU and serves them to IDEs through an embedded SSH gateway.
package main

import "os"

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int { return 0 }
