package devcontainer

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// CommandForm tells which of the three lifecycle command forms a Command has.
type CommandForm int

// The lifecycle command forms.
const (
	// ShellForm is a string, run with /bin/sh -c.
	ShellForm CommandForm = iota + 1
	// ArgsForm is an array, run directly as argv without a shell.
	ArgsForm
	// ParallelForm is an object whose entries run in parallel.
	ParallelForm
)

// Command is a lifecycle command (initializeCommand, onCreateCommand, ...).
type Command struct {
	Form CommandForm
	// Shell is the ShellForm command line.
	Shell string
	// Args is the ArgsForm argv.
	Args []string
	// Parallel are the ParallelForm entries in the configuration's key order; each entry's
	// command is in ShellForm or ArgsForm.
	Parallel []NamedCommand
}

// NamedCommand is one entry of a ParallelForm command.
type NamedCommand struct {
	Name    string
	Command *Command
}

// IsEmpty reports whether running the command would do nothing: nil, "", [] or {}.
func (c *Command) IsEmpty() bool {
	return c == nil || (c.Shell == "" && len(c.Args) == 0 && len(c.Parallel) == 0)
}

// MarshalJSON renders the command in its original form.
func (c *Command) MarshalJSON() ([]byte, error) {
	n, err := c.node()
	if err != nil {
		return nil, err
	}
	return n.MarshalJSON()
}

func (c *Command) node() (*node, error) {
	switch c.Form {
	case ShellForm:
		return &node{kind: '"', str: c.Shell}, nil
	case ArgsForm:
		return fromValue(append([]string{}, c.Args...)), nil
	case ParallelForm:
		n := &node{kind: '{', vals: map[string]*node{}}
		for _, e := range c.Parallel {
			if e.Command == nil || e.Command.Form == ParallelForm {
				return nil, fmt.Errorf("command %q: %w: entries must be strings or arrays", e.Name, ErrInvalid)
			}
			v, err := e.Command.node()
			if err != nil {
				return nil, err
			}
			n.set(e.Name, v)
		}
		return n, nil
	}
	return nil, fmt.Errorf("command: %w: no form", ErrInvalid)
}

// UnmarshalJSON decodes any of the three forms.
func (c *Command) UnmarshalJSON(data []byte) error {
	root, err := parseTree("command", data)
	if err != nil {
		return err
	}
	d := &decoder{file: "command", src: data}
	got := d.command(root, "command")
	if d.err != nil {
		return d.err
	}
	if got == nil {
		*c = Command{}
		return nil
	}
	*c = *got
	return nil
}

// command decodes a lifecycle command property; null and absent give nil.
func (d *decoder) command(n *node, path string) *Command {
	if absent(n) {
		return nil
	}
	switch n.kind {
	case '"', '[':
		return d.simpleCommand(n, path)
	case '{':
		c := &Command{Form: ParallelForm, Parallel: []NamedCommand{}}
		for _, k := range n.jsKeys() {
			v := n.vals[k]
			if v.kind != '"' && v.kind != '[' {
				d.fail(v, path+"."+k, "must be a string or an array of strings")
				return nil
			}
			sub := d.simpleCommand(v, path+"."+k)
			if sub == nil {
				return nil
			}
			c.Parallel = append(c.Parallel, NamedCommand{Name: k, Command: sub})
		}
		return c
	}
	d.fail(n, path, "must be a string, an array of strings or an object")
	return nil
}

func (d *decoder) simpleCommand(n *node, path string) *Command {
	if n.kind == '"' {
		return &Command{Form: ShellForm, Shell: n.str}
	}
	args := d.strs(n, path)
	if args == nil {
		return nil
	}
	return &Command{Form: ArgsForm, Args: args}
}

// String renders the command for logs: the shell line, the argv joined by spaces, or the
// object form as JSON.
func (c *Command) String() string {
	switch {
	case c == nil:
		return ""
	case c.Form == ShellForm:
		return c.Shell
	case c.Form == ArgsForm:
		var b bytes.Buffer
		for i, a := range c.Args {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(a)
		}
		return b.String()
	}
	b, _ := json.Marshal(c)
	return string(b)
}
