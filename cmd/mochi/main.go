// Command mochi brings up development containers from devcontainer.json on Docker (later LXC
// and QEMU) and serves them to IDEs through an embedded SSH gateway. Its up, build, exec,
// read-configuration, run-user-commands and set-up commands take the reference CLI's flags
// and print its JSON results.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], systemIO())) }
