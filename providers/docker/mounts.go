package docker

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	units "github.com/docker/go-units"
)

// volumeModes are the options `-v src:dst:opts` accepts on Linux.
var volumeModes = map[string]bool{
	"ro": true, "rw": true, "z": true, "Z": true, "nocopy": true,
	"shared": true, "rshared": true, "slave": true, "rslave": true, "private": true, "rprivate": true,
	"consistent": true, "cached": true, "delegated": true,
}

// addVolumeFlag applies `-v [src:]dst[:opts]`. Binds and named volumes are passed to the engine
// as Binds so it applies its own -v semantics (a missing host folder is created); a relative
// host path is made absolute against the current directory, as the docker CLI does.
func (rc *runConfig) addVolumeFlag(v string) error {
	parts := strings.Split(v, ":")
	switch len(parts) {
	case 1:
		if !path.IsAbs(parts[0]) {
			return errors.New("an anonymous volume needs an absolute container path")
		}
		rc.vols = append(rc.vols, volume{target: path.Clean(parts[0]), anon: true})
		return nil
	case 2, 3:
	default:
		return errors.New("want [source:]target[:options]")
	}
	src, dst := parts[0], parts[1]
	if src == "" || !path.IsAbs(dst) {
		return errors.New("want source:/absolute/target")
	}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			if !volumeModes[o] {
				return fmt.Errorf("unknown volume option %q", o)
			}
		}
	}
	if strings.HasPrefix(src, ".") {
		abs, err := filepath.Abs(src)
		if err != nil {
			return err
		}
		parts[0] = abs
	}
	rc.vols = append(rc.vols, volume{target: path.Clean(dst), bind: strings.Join(parts, ":")})
	return nil
}

// parseMountFlag parses a `--mount` value (comma-separated key=value, CSV quoting allowed).
func parseMountFlag(v string) (mount.Mount, error) {
	fields, err := csv.NewReader(strings.NewReader(v)).Read()
	if err != nil {
		return mount.Mount{}, err
	}
	m := mount.Mount{Type: mount.TypeVolume}
	var bind mount.BindOptions
	var vol mount.VolumeOptions
	var tmpfs mount.TmpfsOptions
	var hasBind, hasVol, hasTmpfs bool
	for _, f := range fields {
		key, val, hasVal := strings.Cut(f, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		flag := func() (bool, error) {
			if !hasVal {
				return true, nil
			}
			b, err := strconv.ParseBool(val)
			if err != nil {
				return false, fmt.Errorf("%s: want a boolean, got %q", key, val)
			}
			return b, nil
		}
		if !hasVal && key != "readonly" && key != "ro" && key != "volume-nocopy" {
			return mount.Mount{}, fmt.Errorf("%q: want key=value", f)
		}
		switch key {
		case "type":
			m.Type = mount.Type(strings.ToLower(val))
		case "source", "src":
			m.Source = val
		case "target", "dst", "destination":
			m.Target = val
		case "readonly", "ro":
			if m.ReadOnly, err = flag(); err != nil {
				return mount.Mount{}, err
			}
		case "consistency":
			m.Consistency = mount.Consistency(strings.ToLower(val))
		case "bind-propagation":
			hasBind = true
			bind.Propagation = mount.Propagation(strings.ToLower(val))
		case "bind-nonrecursive":
			hasBind = true
			if bind.NonRecursive, err = flag(); err != nil {
				return mount.Mount{}, err
			}
		case "volume-nocopy":
			hasVol = true
			if vol.NoCopy, err = flag(); err != nil {
				return mount.Mount{}, err
			}
		case "volume-driver":
			hasVol = true
			if vol.DriverConfig == nil {
				vol.DriverConfig = &mount.Driver{}
			}
			vol.DriverConfig.Name = val
		case "volume-opt":
			hasVol = true
			k, ov, ok := strings.Cut(val, "=")
			if !ok {
				return mount.Mount{}, fmt.Errorf("volume-opt %q: want key=value", val)
			}
			if vol.DriverConfig == nil {
				vol.DriverConfig = &mount.Driver{}
			}
			if vol.DriverConfig.Options == nil {
				vol.DriverConfig.Options = map[string]string{}
			}
			vol.DriverConfig.Options[k] = ov
		case "volume-label":
			hasVol = true
			k, lv, _ := strings.Cut(val, "=")
			if vol.Labels == nil {
				vol.Labels = map[string]string{}
			}
			vol.Labels[k] = lv
		case "tmpfs-size":
			hasTmpfs = true
			n, err := units.RAMInBytes(val)
			if err != nil {
				return mount.Mount{}, fmt.Errorf("tmpfs-size: %w", err)
			}
			tmpfs.SizeBytes = n
		case "tmpfs-mode":
			hasTmpfs = true
			n, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return mount.Mount{}, fmt.Errorf("tmpfs-mode %q: want an octal mode", val)
			}
			tmpfs.Mode = os.FileMode(n)
		default:
			return mount.Mount{}, fmt.Errorf("unknown mount option %q", key)
		}
	}
	if m.Target == "" {
		return mount.Mount{}, errors.New("target is required")
	}
	switch m.Type {
	case mount.TypeBind:
		if m.Source == "" {
			return mount.Mount{}, errors.New("a bind mount needs a source")
		}
		if hasBind {
			m.BindOptions = &bind
		}
	case mount.TypeVolume:
		if hasVol {
			m.VolumeOptions = &vol
		}
	case mount.TypeTmpfs:
		if m.Source != "" {
			return mount.Mount{}, errors.New("a tmpfs mount takes no source")
		}
		if hasTmpfs {
			m.TmpfsOptions = &tmpfs
		}
	default:
		return mount.Mount{}, fmt.Errorf("unsupported mount type %q", m.Type)
	}
	if hasBind && m.Type != mount.TypeBind || hasVol && m.Type != mount.TypeVolume || hasTmpfs && m.Type != mount.TypeTmpfs {
		return mount.Mount{}, fmt.Errorf("options do not match mount type %q", m.Type)
	}
	return m, nil
}

// parseDevice parses `--device host[:container][:permissions]`.
func parseDevice(v string) (container.DeviceMapping, error) {
	parts := strings.Split(v, ":")
	d := container.DeviceMapping{CgroupPermissions: "rwm"}
	switch len(parts) {
	case 3:
		d.PathOnHost, d.PathInContainer, d.CgroupPermissions = parts[0], parts[1], parts[2]
	case 2:
		d.PathOnHost = parts[0]
		if validDeviceMode(parts[1]) {
			d.CgroupPermissions = parts[1]
		} else {
			d.PathInContainer = parts[1]
		}
	case 1:
		d.PathOnHost = parts[0]
	default:
		return d, errors.New("want host[:container][:permissions]")
	}
	if d.PathInContainer == "" {
		d.PathInContainer = d.PathOnHost
	}
	if !path.IsAbs(d.PathOnHost) || !path.IsAbs(d.PathInContainer) {
		return d, errors.New("device paths must be absolute (CDI device names need a newer engine)")
	}
	if !validDeviceMode(d.CgroupPermissions) {
		return d, fmt.Errorf("bad device permissions %q", d.CgroupPermissions)
	}
	return d, nil
}

func validDeviceMode(m string) bool {
	if m == "" || len(m) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range m {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// parseGPUs parses `--gpus`: "all", a count, or CSV of count=, device=, driver=, capabilities=.
func parseGPUs(v string) (container.DeviceRequest, error) {
	r := container.DeviceRequest{}
	fields, err := csv.NewReader(strings.NewReader(v)).Read()
	if err != nil {
		return r, err
	}
	for _, f := range fields {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			k, val = "count", f
		}
		switch k {
		case "count":
			if val == "all" {
				r.Count = -1
				continue
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return r, fmt.Errorf("bad GPU count %q", val)
			}
			r.Count = n
		case "device":
			r.DeviceIDs = append(r.DeviceIDs, strings.Split(val, ",")...)
		case "driver":
			r.Driver = val
		case "capabilities":
			r.Capabilities = append(r.Capabilities, strings.Split(val, ","))
		default:
			return r, fmt.Errorf("unknown GPU option %q", k)
		}
	}
	if r.Count != 0 && len(r.DeviceIDs) > 0 {
		return r, errors.New("count and device are mutually exclusive")
	}
	if len(r.Capabilities) == 0 {
		r.Capabilities = [][]string{{"gpu"}}
	}
	return r, nil
}
