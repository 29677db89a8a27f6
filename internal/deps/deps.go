//go:build tools

// Package deps pins modules that packages under construction will import.
package deps

import (
	_ "github.com/compose-spec/compose-go/v2/loader"
	_ "github.com/creack/pty"
	_ "github.com/docker/docker/client"
	_ "github.com/gliderlabs/ssh"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/pkg/sftp"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "github.com/tailscale/hujson"
	_ "golang.org/x/crypto/ssh"
)
