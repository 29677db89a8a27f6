package compose

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Depends-on conditions of the compose specification.
const (
	ConditionStarted   = "service_started"
	ConditionHealthy   = "service_healthy"
	ConditionCompleted = "service_completed_successfully"
)

// Select returns the services `up` brings up, in start order (dependencies first): with
// runServices empty (nil or []: the reference CLI then names no service to `compose up`),
// every service whose profiles are active (or that has none), as `docker compose up` without
// service arguments; otherwise runServices; in both cases the main service and, transitively,
// the services they depend on. Among services whose
// dependencies are met, the main service comes last so that it sees all the others.
func (p *Project) Select(main string, runServices []string) ([]string, error) {
	want := map[string]bool{}
	if main != "" {
		if _, ok := p.model.Services[main]; !ok {
			return nil, p.notFound(main)
		}
		want[main] = true
	}
	if len(runServices) == 0 {
		for name, s := range p.model.Services {
			if len(s.Profiles) == 0 || profileActive(s.Profiles, p.Profiles) {
				want[name] = true
			}
		}
	}
	for _, name := range runServices {
		if _, ok := p.model.Services[name]; !ok {
			return nil, fmt.Errorf("runServices: %w", p.notFound(name))
		}
		want[name] = true
	}
	queue := make([]string, 0, len(want))
	for n := range want {
		queue = append(queue, n)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for dep, d := range p.model.Services[n].DependsOn {
			if _, ok := p.model.Services[dep]; !ok {
				if d.Required {
					return nil, fmt.Errorf("service %q depends on %w", n, p.notFound(dep))
				}
				continue
			}
			if !want[dep] {
				want[dep] = true
				queue = append(queue, dep)
			}
		}
	}
	return p.order(want, main)
}

func profileActive(profiles, active []string) bool {
	for _, a := range active {
		if a == "*" || slices.Contains(profiles, a) {
			return true
		}
	}
	return false
}

// order sorts the wanted services topologically (Kahn's algorithm, ties by name, main
// last) and reports a cycle naming its services.
func (p *Project) order(want map[string]bool, main string) ([]string, error) {
	pending := map[string]int{}
	dependants := map[string][]string{}
	for n := range want {
		pending[n] = 0
		for dep := range p.model.Services[n].DependsOn {
			if want[dep] {
				pending[n]++
				dependants[dep] = append(dependants[dep], n)
			}
		}
	}
	var ready, out []string
	for n, c := range pending {
		if c == 0 {
			ready = append(ready, n)
		}
	}
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool {
			if (ready[i] == main) != (ready[j] == main) {
				return ready[j] == main
			}
			return ready[i] < ready[j]
		})
		n := ready[0]
		ready = ready[1:]
		out = append(out, n)
		for _, d := range dependants[n] {
			if pending[d]--; pending[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	if len(out) < len(want) {
		return nil, fmt.Errorf("services %s: %w", p.cyclePath(want, pending), ErrCycle)
	}
	return out, nil
}

// cyclePath finds one cycle among the services left unordered and prints it as a -> b -> a.
func (p *Project) cyclePath(want map[string]bool, pending map[string]int) string {
	var start string
	for n, c := range pending {
		if c > 0 && (start == "" || n < start) {
			start = n
		}
	}
	seen := map[string]int{}
	var path []string
	for n := start; ; {
		if i, ok := seen[n]; ok {
			return strings.Join(append(path[i:], n), " -> ")
		}
		seen[n] = len(path)
		path = append(path, n)
		var next []string
		for dep := range p.model.Services[n].DependsOn {
			if want[dep] && pending[dep] > 0 {
				next = append(next, dep)
			}
		}
		if len(next) == 0 {
			return strings.Join(path, ", ")
		}
		sort.Strings(next)
		n = next[0]
	}
}
