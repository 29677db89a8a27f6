package features

import (
	"fmt"
	"strings"
)

type metaParser struct {
	file string
	m    *Metadata
	err  error
}

func (p *metaParser) fail(prop, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: %s: property %q: %s", ErrInvalidMetadata, p.file, prop, fmt.Sprintf(format, args...))
	}
}

func (p *metaParser) str(o *object, prop, key string, dst *string) {
	v, ok := o.get(key)
	if !ok {
		return
	}
	s, ok := v.(string)
	if !ok {
		p.fail(prop+key, "expected a string, got %s", describe(v))
		return
	}
	*dst = s
}

func (p *metaParser) boolean(o *object, key string) *bool {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		p.fail(key, "expected a boolean, got %s", describe(v))
		return nil
	}
	return &b
}

func (p *metaParser) strings(o *object, prop, key string) []string {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		p.fail(prop+key, "expected an array of strings, got %s", describe(v))
		return nil
	}
	out := make([]string, 0, len(a))
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			p.fail(fmt.Sprintf("%s%s[%d]", prop, key, i), "expected a string, got %s", describe(e))
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (p *metaParser) parse(doc *object) {
	m := p.m
	p.str(doc, "", "id", &m.ID)
	switch {
	case m.ID == "":
		p.fail("id", "is required")
	case !metadataIDRe.MatchString(m.ID):
		// The id names folders in the build; keep it a plain file name.
		p.fail("id", "%q must be letters, digits, '_', '-' or '.', not starting with '.'", m.ID)
	}
	p.str(doc, "", "version", &m.Version)
	p.str(doc, "", "name", &m.Name)
	p.str(doc, "", "description", &m.Description)
	p.str(doc, "", "documentationURL", &m.DocumentationURL)
	p.str(doc, "", "licenseURL", &m.LicenseURL)
	p.str(doc, "", "entrypoint", &m.Entrypoint)
	p.str(doc, "", "currentId", &m.CurrentID)
	m.Keywords = p.strings(doc, "", "keywords")
	m.CapAdd = p.strings(doc, "", "capAdd")
	m.SecurityOpt = p.strings(doc, "", "securityOpt")
	m.InstallsAfter = p.strings(doc, "", "installsAfter")
	m.LegacyIDs = p.strings(doc, "", "legacyIds")
	m.Privileged = p.boolean(doc, "privileged")
	m.Init = p.boolean(doc, "init")
	if d := p.boolean(doc, "deprecated"); d != nil {
		m.Deprecated = *d
	}
	if v, ok := doc.get("mounts"); ok {
		a, ok := v.([]any)
		if !ok {
			p.fail("mounts", "expected an array, got %s", describe(v))
		}
		for i, e := range a {
			switch e.(type) {
			case string, *object:
				m.Mounts = append(m.Mounts, plain(e))
			default:
				p.fail(fmt.Sprintf("mounts[%d]", i), "expected a string or an object, got %s", describe(e))
			}
		}
	}
	if v, ok := doc.get("customizations"); ok {
		o, ok := v.(*object)
		if !ok {
			p.fail("customizations", "expected an object, got %s", describe(v))
		} else {
			m.Customizations = plain(o).(map[string]any)
		}
	}
	if v, ok := doc.get("containerEnv"); ok {
		o, ok := v.(*object)
		if !ok {
			p.fail("containerEnv", "expected an object, got %s", describe(v))
		} else {
			for _, k := range o.keys {
				s, ok := o.vals[k].(string)
				if !ok {
					p.fail("containerEnv."+k, "expected a string, got %s", describe(o.vals[k]))
				}
				m.ContainerEnv = append(m.ContainerEnv, EnvVar{k, s})
			}
		}
	}
	if v, ok := doc.get("dependsOn"); ok {
		o, ok := v.(*object)
		if !ok {
			p.fail("dependsOn", "expected an object, got %s", describe(v))
		} else {
			for _, k := range o.keys {
				switch o.vals[k].(type) {
				case *object, string, bool:
				default:
					p.fail("dependsOn."+k, "expected an options object, a string or a boolean, got %s", describe(o.vals[k]))
				}
				m.DependsOn = append(m.DependsOn, Dependency{Ref: k, Options: plain(o.vals[k]), ordered: o.vals[k]})
			}
		}
	}
	for _, h := range HookNames {
		if v, ok := doc.get(h); ok {
			switch v.(type) {
			case string, []any, *object:
				m.Hooks[h] = plain(v)
			default:
				p.fail(h, "expected a string, an array or an object, got %s", describe(v))
			}
		}
	}
	if v, ok := doc.get("options"); ok {
		o, ok := v.(*object)
		if !ok {
			p.fail("options", "expected an object, got %s", describe(v))
			return
		}
		for _, name := range o.keys {
			p.option(name, o.vals[name])
		}
	}
}

func (p *metaParser) option(name string, v any) {
	prop := "options." + name
	// The option becomes an environment variable: its name must give a usable one.
	if SafeID(name) == "" || strings.Trim(SafeID(name), "_") == "" {
		p.fail(prop, "an option name must contain a letter or digit, got %q", name)
		return
	}
	o, ok := v.(*object)
	if !ok {
		p.fail(prop, "expected an object, got %s", describe(v))
		return
	}
	opt := Option{Name: name}
	p.str(o, prop+".", "type", &opt.Type)
	p.str(o, prop+".", "description", &opt.Description)
	switch opt.Type {
	case "string", "boolean":
	case "":
		p.fail(prop+".type", "is required (\"string\" or \"boolean\")")
	default:
		p.fail(prop+".type", "expected \"string\" or \"boolean\", got %q", opt.Type)
	}
	opt.Enum = p.strings(o, prop+".", "enum")
	opt.Proposals = p.strings(o, prop+".", "proposals")
	if d, ok := o.get("default"); ok {
		opt.HasDefault = true
		switch d := d.(type) {
		case string:
			if opt.Type == "boolean" {
				p.fail(prop+".default", "expected a boolean, got %s", describe(d))
			}
			opt.Default = d
		case bool:
			if opt.Type == "string" {
				p.fail(prop+".default", "expected a string, got %s", describe(d))
			}
			opt.Default = d
		default:
			p.fail(prop+".default", "expected a string or a boolean, got %s", describe(d))
		}
	}
	p.m.Options = append(p.m.Options, opt)
}
