package devcontainer

import (
	"fmt"
	"strconv"
)

// decoder fills a Config from a node tree, remembering the first type error.
type decoder struct {
	file string
	src  []byte
	err  error
}

// fail records a type error for the value n at path.
func (d *decoder) fail(n *node, path, format string, args ...any) {
	if d.err != nil {
		return
	}
	line, col := lineCol(d.src, n.off)
	msg := fmt.Sprintf("%q ", path) + fmt.Sprintf(format, args...)
	d.err = &Error{File: d.file, Line: line, Col: col, Path: path, Msg: msg, kind: ErrInvalid}
}

// config decodes every known property of root into c.
func (d *decoder) config(c *Config, root *node) {
	c.Name = d.str(root.get("name"), "name")
	c.Image = d.str(root.get("image"), "image")
	c.hasImage = root.get("image") != nil
	c.Build = d.build(root)
	c.DockerComposeFile = d.strOrStrs(root.get("dockerComposeFile"), "dockerComposeFile")
	c.hasCompose = root.get("dockerComposeFile") != nil
	c.Service = d.str(root.get("service"), "service")
	c.RunServices = d.strs(root.get("runServices"), "runServices")
	c.WorkspaceFolder = d.str(root.get("workspaceFolder"), "workspaceFolder")
	if n := root.get("workspaceMount"); n != nil {
		s := d.str(n, "workspaceMount")
		c.WorkspaceMount = &s
	}
	c.Mounts = d.mounts(root.get("mounts"), "mounts")
	c.ContainerEnv = d.strMap(root.get("containerEnv"), "containerEnv")
	c.RemoteEnv = d.nullableStrMap(root.get("remoteEnv"), "remoteEnv")
	c.ContainerUser = d.str(root.get("containerUser"), "containerUser")
	c.RemoteUser = d.str(root.get("remoteUser"), "remoteUser")
	c.UpdateRemoteUserUID = d.boolPtr(root.get("updateRemoteUserUID"), "updateRemoteUserUID")
	c.UserEnvProbe = d.str(root.get("userEnvProbe"), "userEnvProbe")
	c.OverrideCommand = d.boolPtr(root.get("overrideCommand"), "overrideCommand")
	c.RunArgs = d.strs(root.get("runArgs"), "runArgs")
	c.AppPort = d.appPort(root.get("appPort"), "appPort")
	c.CapAdd = d.strs(root.get("capAdd"), "capAdd")
	c.SecurityOpt = d.strs(root.get("securityOpt"), "securityOpt")
	c.Init = d.boolPtr(root.get("init"), "init")
	c.Privileged = d.boolPtr(root.get("privileged"), "privileged")
	c.ShutdownAction = d.str(root.get("shutdownAction"), "shutdownAction")
	c.ForwardPorts, c.forwardPortNumbers = d.forwardPorts(root.get("forwardPorts"), "forwardPorts")
	c.PortsAttributes = d.portsAttributes(root.get("portsAttributes"), "portsAttributes")
	if n := root.get("otherPortsAttributes"); n != nil && n.kind != 'n' {
		a := d.portAttributes(n, "otherPortsAttributes")
		c.OtherPortsAttributes = &a
	}
	c.HostRequirements = d.hostRequirements(root.get("hostRequirements"), "hostRequirements")
	if n := root.get("customizations"); n != nil && n.kind != 'n' {
		if n.kind != '{' {
			d.fail(n, "customizations", "must be an object")
		} else {
			c.Customizations = n.value().(map[string]any)
		}
	}
	c.Features = d.features(root.get("features"), "features")
	c.OverrideFeatureInstallOrder = d.strs(root.get("overrideFeatureInstallOrder"), "overrideFeatureInstallOrder")
	c.InitializeCommand = d.command(root.get("initializeCommand"), "initializeCommand")
	c.OnCreateCommand = d.command(root.get("onCreateCommand"), "onCreateCommand")
	c.UpdateContentCommand = d.command(root.get("updateContentCommand"), "updateContentCommand")
	c.PostCreateCommand = d.command(root.get("postCreateCommand"), "postCreateCommand")
	c.PostStartCommand = d.command(root.get("postStartCommand"), "postStartCommand")
	c.PostAttachCommand = d.command(root.get("postAttachCommand"), "postAttachCommand")
	c.WaitFor = d.str(root.get("waitFor"), "waitFor")
}

// absent reports whether a property is missing or null (null counts as unset).
func absent(n *node) bool { return n == nil || n.kind == 'n' }

func (d *decoder) str(n *node, path string) string {
	if absent(n) {
		return ""
	}
	if n.kind != '"' {
		d.fail(n, path, "must be a string")
		return ""
	}
	return n.str
}

func (d *decoder) boolPtr(n *node, path string) *bool {
	if absent(n) {
		return nil
	}
	if n.kind != 't' && n.kind != 'f' {
		d.fail(n, path, "must be a boolean")
		return nil
	}
	b := n.kind == 't'
	return &b
}

func (d *decoder) strs(n *node, path string) []string {
	if absent(n) {
		return nil
	}
	if n.kind != '[' {
		d.fail(n, path, "must be an array of strings")
		return nil
	}
	out := make([]string, 0, len(n.elem))
	for i, e := range n.elem {
		if e.kind != '"' {
			d.fail(e, index(path, i), "must be a string")
			return nil
		}
		out = append(out, e.str)
	}
	return out
}

// index is the JSON path of element i of the array at path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func (d *decoder) strOrStrs(n *node, path string) []string {
	if absent(n) {
		return nil
	}
	if n.kind == '"' {
		return []string{n.str}
	}
	if n.kind != '[' {
		d.fail(n, path, "must be a string or an array of strings")
		return nil
	}
	return d.strs(n, path)
}

func (d *decoder) strMap(n *node, path string) map[string]string {
	if absent(n) {
		return nil
	}
	if n.kind != '{' {
		d.fail(n, path, "must be an object of strings")
		return nil
	}
	out := make(map[string]string, len(n.keys))
	for _, k := range n.keys {
		v := n.vals[k]
		if v.kind != '"' {
			d.fail(v, path+"."+k, "must be a string")
			return nil
		}
		out[k] = v.str
	}
	return out
}

func (d *decoder) nullableStrMap(n *node, path string) map[string]*string {
	if absent(n) {
		return nil
	}
	if n.kind != '{' {
		d.fail(n, path, "must be an object of strings or nulls")
		return nil
	}
	out := make(map[string]*string, len(n.keys))
	for _, k := range n.keys {
		v := n.vals[k]
		switch v.kind {
		case 'n':
			out[k] = nil
		case '"':
			s := v.str
			out[k] = &s
		default:
			d.fail(v, path+"."+k, "must be a string or null")
			return nil
		}
	}
	return out
}

// build folds build.* and the legacy top-level dockerFile/context into a Build. It is nil
// unless the configuration is a Dockerfile one or has a build object.
func (d *decoder) build(root *node) *Build {
	bn := root.get("build")
	legacy := root.get("dockerFile")
	if absent(bn) && legacy == nil {
		return nil
	}
	b := &Build{}
	if !absent(bn) {
		if bn.kind != '{' {
			d.fail(bn, "build", "must be an object")
			return nil
		}
		b.Dockerfile = d.str(bn.get("dockerfile"), "build.dockerfile")
		b.Context = d.str(bn.get("context"), "build.context")
		b.Args = d.strMap(bn.get("args"), "build.args")
		b.Target = d.str(bn.get("target"), "build.target")
		b.CacheFrom = d.strOrStrs(bn.get("cacheFrom"), "build.cacheFrom")
		b.Options = d.strs(bn.get("options"), "build.options")
	}
	if legacy != nil {
		// The reference takes Dockerfile and context from the top level when dockerFile is set.
		b.Dockerfile = d.str(legacy, "dockerFile")
		b.Context = d.str(root.get("context"), "context")
		b.legacy = true
	}
	b.isDockerfile = legacy != nil || (bn.get("dockerfile") != nil)
	return b
}

func (d *decoder) appPort(n *node, path string) []string {
	if absent(n) {
		return nil
	}
	one := func(e *node, path string) (string, bool) {
		switch e.kind {
		case '0':
			p := jsNumber(e.str)
			return "127.0.0.1:" + p + ":" + p, true
		case '"':
			return e.str, true
		}
		d.fail(e, path, "must be a port number, a string or an array of them")
		return "", false
	}
	if n.kind != '[' {
		s, ok := one(n, path)
		if !ok {
			return nil
		}
		return []string{s}
	}
	out := make([]string, 0, len(n.elem))
	for i, e := range n.elem {
		s, ok := one(e, index(path, i))
		if !ok {
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) forwardPorts(n *node, path string) ([]string, []bool) {
	if absent(n) {
		return nil, nil
	}
	if n.kind != '[' {
		d.fail(n, path, "must be an array of port numbers or \"host:port\" strings")
		return nil, nil
	}
	ports := make([]string, 0, len(n.elem))
	nums := make([]bool, 0, len(n.elem))
	for i, e := range n.elem {
		switch e.kind {
		case '0':
			ports = append(ports, jsNumber(e.str))
			nums = append(nums, true)
		case '"':
			ports = append(ports, e.str)
			nums = append(nums, false)
		default:
			d.fail(e, index(path, i), "must be a port number or a \"host:port\" string")
			return nil, nil
		}
	}
	return ports, nums
}

func (d *decoder) portsAttributes(n *node, path string) map[string]PortAttributes {
	if absent(n) {
		return nil
	}
	if n.kind != '{' {
		d.fail(n, path, "must be an object")
		return nil
	}
	out := make(map[string]PortAttributes, len(n.keys))
	for _, k := range n.keys {
		out[k] = d.portAttributes(n.vals[k], path+"."+k)
	}
	return out
}

func (d *decoder) portAttributes(n *node, path string) PortAttributes {
	var a PortAttributes
	if absent(n) {
		return a
	}
	if n.kind != '{' {
		d.fail(n, path, "must be an object")
		return a
	}
	a.Label = d.str(n.get("label"), path+".label")
	a.Protocol = d.str(n.get("protocol"), path+".protocol")
	a.OnAutoForward = d.str(n.get("onAutoForward"), path+".onAutoForward")
	a.RequireLocalPort = d.boolPtr(n.get("requireLocalPort"), path+".requireLocalPort")
	a.ElevateIfNeeded = d.boolPtr(n.get("elevateIfNeeded"), path+".elevateIfNeeded")
	return a
}

func (d *decoder) hostRequirements(n *node, path string) *HostRequirements {
	if absent(n) {
		return nil
	}
	if n.kind != '{' {
		d.fail(n, path, "must be an object")
		return nil
	}
	h := &HostRequirements{
		CPUs:    d.integer(n.get("cpus"), path+".cpus"),
		Memory:  d.str(n.get("memory"), path+".memory"),
		Storage: d.str(n.get("storage"), path+".storage"),
	}
	switch g := n.get("gpu"); {
	case absent(g):
	case g.kind == 't' || g.kind == 'f':
		h.GPU = g.kind == 't'
	case g.kind == '"' && g.str == "optional":
		h.GPU = "optional"
	case g.kind == '{':
		h.GPU = &GPURequirements{
			Cores:  d.integer(g.get("cores"), path+".gpu.cores"),
			Memory: d.str(g.get("memory"), path+".gpu.memory"),
		}
	default:
		d.fail(g, path+".gpu", `must be true, false, "optional" or an object`)
	}
	return h
}

func (d *decoder) integer(n *node, path string) int {
	if absent(n) {
		return 0
	}
	f, err := strconv.ParseFloat(n.str, 64)
	if n.kind != '0' || err != nil || f != float64(int(f)) {
		d.fail(n, path, "must be an integer")
		return 0
	}
	return int(f)
}

func (d *decoder) features(n *node, path string) []FeatureRef {
	if absent(n) {
		return nil
	}
	if n.kind != '{' {
		d.fail(n, path, "must be an object")
		return nil
	}
	out := make([]FeatureRef, 0, len(n.keys))
	for _, k := range n.jsKeys() {
		v := n.vals[k]
		f := FeatureRef{ID: k, Value: v.value()}
		switch v.kind {
		case '{':
			f.Options = v.value().(map[string]any)
		case '"', 't', 'f':
		default:
			d.fail(v, path+"."+k, "must be an object of options, a string or a boolean")
			return nil
		}
		out = append(out, f)
	}
	return out
}
