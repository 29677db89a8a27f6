package devcontainer

import "errors"

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

// IsEmpty reports whether running the command would do nothing.
func (c *Command) IsEmpty() bool {
	return c == nil || (c.Shell == "" && len(c.Args) == 0 && len(c.Parallel) == 0)
}

// MarshalJSON renders the command in its original form.
func (c *Command) MarshalJSON() ([]byte, error) {
	return nil, errors.New("command json: not implemented")
}
