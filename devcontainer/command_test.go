package devcontainer

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCommandForms(t *testing.T) {
	tests := []struct {
		json  string
		want  *Command
		empty bool
	}{
		{`"npm install"`, &Command{Form: ShellForm, Shell: "npm install"}, false},
		{`["npm","install"]`, &Command{Form: ArgsForm, Args: []string{"npm", "install"}}, false},
		{`{"z":"echo z","a":["echo","a"],"2":"two"}`, &Command{Form: ParallelForm, Parallel: []NamedCommand{
			{Name: "2", Command: &Command{Form: ShellForm, Shell: "two"}},
			{Name: "z", Command: &Command{Form: ShellForm, Shell: "echo z"}},
			{Name: "a", Command: &Command{Form: ArgsForm, Args: []string{"echo", "a"}}},
		}}, false},
		{`""`, &Command{Form: ShellForm}, true},
		{`[]`, &Command{Form: ArgsForm, Args: []string{}}, true},
		{`{}`, &Command{Form: ParallelForm, Parallel: []NamedCommand{}}, true},
	}
	for _, tt := range tests {
		var c Command
		if err := json.Unmarshal([]byte(tt.json), &c); err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.json, err)
			continue
		}
		if diff := cmp.Diff(tt.want, &c); diff != "" {
			t.Errorf("Unmarshal(%s) (-want +got):\n%s", tt.json, diff)
		}
		if c.IsEmpty() != tt.empty {
			t.Errorf("IsEmpty(%s) = %v", tt.json, c.IsEmpty())
		}
		out, err := json.Marshal(&c)
		if err != nil {
			t.Errorf("Marshal(%s): %v", tt.json, err)
			continue
		}
		// The object form keeps JavaScript key order (index keys first), as the reference prints it.
		want := tt.json
		if tt.want.Form == ParallelForm && len(tt.want.Parallel) > 0 {
			want = `{"2":"two","z":"echo z","a":["echo","a"]}`
		}
		if string(out) != want {
			t.Errorf("Marshal = %s, want %s", out, want)
		}
	}
	var nilCmd *Command
	if !nilCmd.IsEmpty() {
		t.Error("nil command is not empty")
	}
}

func TestCommandErrors(t *testing.T) {
	for _, bad := range []string{`1`, `true`, `[1]`, `{"a":1}`, `{"a":{"b":"c"}}`, `["a",null]`} {
		var c Command
		err := json.Unmarshal([]byte(bad), &c)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Unmarshal(%s) error = %v, want ErrInvalid", bad, err)
		}
	}
	c := &Command{Form: ParallelForm, Parallel: []NamedCommand{{Name: "x", Command: &Command{Form: ParallelForm}}}}
	if _, err := json.Marshal(c); err == nil {
		t.Error("nested parallel command marshalled")
	}
}

func TestCommandString(t *testing.T) {
	if s := (&Command{Form: ArgsForm, Args: []string{"echo", "a b"}}).String(); s != "echo a b" {
		t.Errorf("String = %q", s)
	}
	if s := (&Command{Form: ShellForm, Shell: "make"}).String(); s != "make" {
		t.Errorf("String = %q", s)
	}
}
