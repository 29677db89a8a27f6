package compose

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// checkSupported rejects compose features the orchestrator does not implement, naming the
// service and property, rather than silently running something else than Compose would.
func checkSupported(p *types.Project) error {
	var problems []string
	add := func(svc, prop string) { problems = append(problems, fmt.Sprintf("services.%s.%s", svc, prop)) }
	for name, s := range p.Services {
		for _, ref := range s.Secrets {
			if obj, ok := p.Secrets[ref.Source]; ok && obj.File == "" {
				add(name, "secrets."+ref.Source+" (only file secrets are supported)")
			}
		}
		for _, ref := range s.Configs {
			if obj, ok := p.Configs[ref.Source]; ok && obj.File == "" {
				add(name, "configs."+ref.Source+" (only file configs are supported)")
			}
		}
		if len(s.Gpus) > 0 {
			add(name, "gpus")
		}
		if len(s.Models) > 0 {
			add(name, "models")
		}
		if s.Provider != nil {
			add(name, "provider")
		}
		if len(s.PreStart) > 0 || len(s.PostStart) > 0 || len(s.PreStop) > 0 {
			add(name, "pre_start/post_start/pre_stop")
		}
		if s.GetScale() > 1 {
			add(name, "scale/deploy.replicas (more than one container)")
		}
		if s.Deploy != nil {
			if r := s.Deploy.Resources.Reservations; r != nil && (len(r.Devices) > 0 || len(r.GenericResources) > 0 || r.NanoCPUs != 0) {
				add(name, "deploy.resources.reservations (devices, generic_resources, cpus)")
			}
			if l := s.Deploy.Resources.Limits; l != nil && (len(l.Devices) > 0 || len(l.GenericResources) > 0) {
				add(name, "deploy.resources.limits (devices, generic_resources)")
			}
		}
		for _, l := range s.Links {
			if strings.Contains(l, ":") {
				add(name, "links with an alias ("+l+")")
			}
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind && v.Type != types.VolumeTypeVolume && v.Type != types.VolumeTypeTmpfs {
				add(name, "volumes of type "+v.Type)
			}
		}
		if b := s.Build; b != nil {
			if len(b.Secrets) > 0 || len(b.SSH) > 0 || len(b.AdditionalContexts) > 0 {
				add(name, "build.secrets/ssh/additional_contexts")
			}
			if strings.Contains(b.Context, "://") {
				add(name, "build.context (remote context "+b.Context+")")
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("%w: %s", ErrUnsupported, strings.Join(problems, ", "))
}
