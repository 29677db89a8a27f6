package compose

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestSelect(t *testing.T) {
	p := loadBasic(t, nil)
	tests := []struct {
		name     string
		main     string
		run      []string
		profiles []string
		want     []string
	}{
		// db before app (depends_on), main last among the ready ones, debug's profile inactive.
		{"all", "app", nil, nil, []string{"cache", "db", "app"}},
		{"profile", "app", nil, []string{"debug"}, []string{"cache", "db", "debug", "app"}},
		// An empty runServices means all, as nil: the reference passes no service to up.
		{"run services empty", "app", []string{}, nil, []string{"cache", "db", "app"}},
		// runServices: only those, the main service and its dependencies.
		{"run services", "app", []string{"db"}, nil, []string{"db", "app"}},
		{"run services named", "db", []string{"debug"}, nil, []string{"debug", "db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := *p
			q.Profiles = tt.profiles
			got, err := q.Select(tt.main, tt.run)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Select = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	p := loadBasic(t, nil)
	_, err := p.Select("nope", nil)
	if !errors.Is(err, ErrServiceNotFound) {
		t.Fatalf("error %v, want ErrServiceNotFound", err)
	}
	for _, w := range []string{`service "nope"`, "docker-compose.yml", "services: app, cache, db, debug"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if _, err := p.Select("app", []string{"ghost"}); !errors.Is(err, ErrServiceNotFound) || !strings.Contains(err.Error(), "runServices") {
		t.Errorf("runServices error %v", err)
	}
}

// TestOrderCycle checks the orchestrator's own cycle report (compose-go rejects cycles at
// load time; the orchestrator must not hang or drop services if a model has one).
func TestOrderCycle(t *testing.T) {
	svc := func(name string, deps ...string) types.ServiceConfig {
		s := types.ServiceConfig{Name: name}
		s.DependsOn = types.DependsOnConfig{}
		for _, d := range deps {
			s.DependsOn[d] = types.ServiceDependency{Condition: ConditionStarted, Required: true}
		}
		return s
	}
	p := &Project{model: &types.Project{Services: types.Services{
		"a": svc("a", "b"), "b": svc("b", "c"), "c": svc("c", "a"), "d": svc("d"),
	}}}
	_, err := p.Select("d", nil)
	if !errors.Is(err, ErrCycle) {
		t.Fatalf("error %v, want ErrCycle", err)
	}
	if !strings.Contains(err.Error(), "a -> b -> c -> a") {
		t.Errorf("error %q does not show the cycle", err)
	}
}
