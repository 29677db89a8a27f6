package docker

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/docker/docker/api/types/build"
	units "github.com/docker/go-units"
	"github.com/spf13/pflag"
)

// parseBuildOptions applies `docker build` flags from build.options on top of opts. Flags
// that do not change what is built in a way mochi must honour (--progress, --platform) are
// accepted; any other unknown flag is an error naming it.
func parseBuildOptions(opts *build.ImageBuildOptions, args []string, log *slog.Logger) error {
	if len(args) == 0 {
		return nil
	}
	fs := pflag.NewFlagSet("build.options", pflag.ContinueOnError)
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	str := func(name, short string, set func(string) error) { fs.FuncP(name, short, "", set) }
	boolean := func(name string, set func(bool)) {
		fs.BoolFunc(name, "", func(v string) error {
			b, err := parseBool(v)
			set(b)
			return err
		})
	}
	str("build-arg", "", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if k == "" {
			return errors.New("empty build argument name")
		}
		if !ok {
			hv, set := os.LookupEnv(k)
			if !set {
				opts.BuildArgs[k] = nil
				return nil
			}
			val = hv
		}
		opts.BuildArgs[k] = &val
		return nil
	})
	str("label", "", func(v string) error {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return errors.New("empty label name")
		}
		opts.Labels[k] = val
		return nil
	})
	str("target", "", func(v string) error { opts.Target = v; return nil })
	str("network", "", func(v string) error { opts.NetworkMode = v; return nil })
	str("add-host", "", func(v string) error {
		name, ip, ok := strings.Cut(v, "=")
		if !ok {
			name, ip, ok = strings.Cut(v, ":")
		}
		if !ok || name == "" || ip == "" {
			return errors.New("want host:ip")
		}
		opts.ExtraHosts = append(opts.ExtraHosts, name+":"+ip)
		return nil
	})
	boolean("no-cache", func(b bool) { opts.NoCache = b })
	boolean("pull", func(b bool) { opts.PullParent = b })
	str("cache-from", "", func(v string) error { opts.CacheFrom = append(opts.CacheFrom, v); return nil })
	str("shm-size", "", func(v string) error {
		n, err := units.RAMInBytes(v)
		opts.ShmSize = n
		return err
	})
	str("progress", "", func(string) error { return nil })
	str("platform", "", func(v string) error {
		log.Info("build.options: ignoring --platform with the classic builder", "platform", v)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return flagsError("build.options", "docker build", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("build.options: unexpected argument %q (build.options holds flags only)", fs.Arg(0))
	}
	return nil
}

func parseBool(v string) (bool, error) {
	switch v {
	case "true", "1", "":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", v)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
