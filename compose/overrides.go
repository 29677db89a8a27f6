package compose

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// MainOverrides are the devcontainer's changes to the main service: what the reference CLI
// writes into its docker-compose.devcontainer.containerFeatures override file. mochi applies
// them to the service in memory, so the config hash reflects them as it would with Compose.
type MainOverrides struct {
	// Image replaces the service's image (for example the image with Features built on top
	// of it); the service is then not built.
	Image string
	// Entrypoint and Cmd replace the service's when non-nil; an empty Cmd clears it.
	Entrypoint []string
	Cmd        []string
	// Labels are added to the service's (the devcontainer id labels and metadata).
	Labels map[string]string
	// Env is added to the service's environment (merged containerEnv).
	Env map[string]string
	// Mounts are added to the service's volumes; one with the target of an existing volume
	// replaces it. A named volume not declared in the compose files is declared as the
	// reference's override does: <project>_<source>, or <source> when External.
	Mounts []Mount
	// User replaces the service's user when set (containerUser).
	User string
	// Init and Privileged are set when true; CapAdd and SecurityOpt are added.
	Init        bool
	Privileged  bool
	CapAdd      []string
	SecurityOpt []string
}

// applyOverrides returns the main service with the overrides applied, and declares any
// named volume they introduce.
func (p *Project) applyOverrides(s types.ServiceConfig, o MainOverrides) (types.ServiceConfig, error) {
	if o.Image != "" {
		s.Image = o.Image
		s.Build = nil
	}
	if o.Entrypoint != nil {
		s.Entrypoint = slices.Clone(o.Entrypoint)
	}
	if o.Cmd != nil {
		s.Command = slices.Clone(o.Cmd)
	}
	if len(o.Labels) > 0 {
		l := types.Labels{}
		for k, v := range s.Labels {
			l[k] = v
		}
		for k, v := range o.Labels {
			l[k] = v
		}
		s.Labels = l
	}
	if len(o.Env) > 0 {
		env := types.MappingWithEquals{}
		for k, v := range s.Environment {
			env[k] = v
		}
		for k, v := range o.Env {
			env[k] = &v
		}
		s.Environment = env
	}
	if o.User != "" {
		s.User = o.User
	}
	if o.Init {
		t := true
		s.Init = &t
	}
	if o.Privileged {
		s.Privileged = true
	}
	s.CapAdd = union(s.CapAdd, o.CapAdd)
	s.SecurityOpt = union(s.SecurityOpt, o.SecurityOpt)
	if len(o.Mounts) > 0 {
		vols := slices.Clone(s.Volumes)
		for _, m := range o.Mounts {
			v, err := p.overrideVolume(m)
			if err != nil {
				return s, fmt.Errorf("main service %s: %w", s.Name, err)
			}
			if i := slices.IndexFunc(vols, func(x types.ServiceVolumeConfig) bool { return x.Target == v.Target }); i >= 0 {
				vols[i] = v
			} else {
				vols = append(vols, v)
			}
		}
		s.Volumes = vols
	}
	return s, nil
}

// overrideVolume turns a devcontainer mount into a service volume as Compose reads the
// reference's short "source:target" syntax.
func (p *Project) overrideVolume(m Mount) (types.ServiceVolumeConfig, error) {
	if m.Target == "" {
		return types.ServiceVolumeConfig{}, fmt.Errorf("mount without a target")
	}
	v := types.ServiceVolumeConfig{Type: m.Type, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
	switch m.Type {
	case types.VolumeTypeBind:
		v.Bind = &types.ServiceVolumeBind{CreateHostPath: true}
	case types.VolumeTypeVolume:
		if m.Source == "" {
			break
		}
		if _, ok := p.model.Volumes[m.Source]; !ok {
			if p.model.Volumes == nil {
				p.model.Volumes = types.Volumes{}
			}
			name := p.Name + "_" + m.Source
			if m.External {
				name = m.Source
			}
			p.model.Volumes[m.Source] = types.VolumeConfig{Name: name, External: types.External(m.External)}
		}
	case types.VolumeTypeTmpfs:
	default:
		return v, fmt.Errorf("mount type %q for %s", m.Type, m.Target)
	}
	return v, nil
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// discoveryEnv returns MOCHI_SERVICE_<NAME>_HOST=<service> and, for each port the service
// exposes (ports, expose and the image's EXPOSE, ascending), MOCHI_SERVICE_<NAME>_PORT_<i>
// (i from 1) plus MOCHI_SERVICE_<NAME>_PORT for the first, for every service but the main.
func discoveryEnv(services map[string][]uint32) map[string]string {
	env := map[string]string{}
	for name, ports := range services {
		key := "MOCHI_SERVICE_" + envName(name)
		env[key+"_HOST"] = name
		for i, port := range ports {
			env[key+"_PORT_"+strconv.Itoa(i+1)] = strconv.Itoa(int(port))
			if i == 0 {
				env[key+"_PORT"] = strconv.Itoa(int(port))
			}
		}
	}
	return env
}

var nonAlnum = regexp.MustCompile(`[^A-Z0-9]`)

// envName upper-cases a service name and turns every other character into "_".
func envName(s string) string { return nonAlnum.ReplaceAllString(strings.ToUpper(s), "_") }

// servicePorts lists the container ports of a service: its ports and expose entries and the
// image's exposed ports, deduplicated and ascending.
func servicePorts(s types.ServiceConfig, img *Image) []uint32 {
	exposed, _ := ports(s)
	if img != nil {
		exposed = append(exposed, img.ExposedPorts...)
	}
	seen := map[uint32]bool{}
	var out []uint32
	for _, e := range exposed {
		num, _, _ := strings.Cut(e, "/")
		lo, _, _ := strings.Cut(num, "-")
		n, err := strconv.ParseUint(lo, 10, 32)
		if err != nil || seen[uint32(n)] {
			continue
		}
		seen[uint32(n)] = true
		out = append(out, uint32(n))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
