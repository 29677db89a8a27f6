package compose

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// logTailLines is how many log lines a dependency error quotes.
const logTailLines = 20

// waitDependency waits until the dependency's container meets the condition its dependant
// asks for; a failure names the dependency and quotes its last health output and log tail.
func (o *Orchestrator) waitDependency(ctx context.Context, dependant, dep, id, condition string, timeout time.Duration) error {
	if id == "" {
		return fmt.Errorf("service %s: dependency %s has no container: %w", dependant, dep, ErrDependency)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var last *Container
	for {
		c, err := o.eng.InspectContainer(ctx, id)
		if err != nil {
			if ctx.Err() != nil && last != nil {
				return o.dependencyError(ctx, dependant, dep, id, condition, last, "timed out")
			}
			return fmt.Errorf("service %s: inspect dependency %s: %w", dependant, dep, err)
		}
		last = c
		done, why := conditionMet(c, condition)
		if done {
			return nil
		}
		if why != "" {
			return o.dependencyError(ctx, dependant, dep, id, condition, c, why)
		}
		select {
		case <-ctx.Done():
			return o.dependencyError(ctx, dependant, dep, id, condition, c, "timed out")
		case <-time.After(o.poll):
		}
	}
}

// conditionMet reports whether c meets condition, or why it never will.
func conditionMet(c *Container, condition string) (bool, string) {
	switch condition {
	case ConditionHealthy:
		switch {
		case c.Health == "healthy":
			return true, ""
		case c.Health == "unhealthy":
			return false, "is unhealthy"
		case c.State == "exited" || c.State == "dead":
			return false, fmt.Sprintf("exited with code %d", c.ExitCode)
		case c.Health == "":
			return false, "has no healthcheck"
		}
		return false, ""
	case ConditionCompleted:
		if c.State == "exited" || c.State == "dead" {
			if c.ExitCode == 0 {
				return true, ""
			}
			return false, fmt.Sprintf("exited with code %d", c.ExitCode)
		}
		return false, ""
	default: // service_started
		switch c.State {
		case "running", "restarting":
			return true, ""
		case "exited", "dead":
			return false, fmt.Sprintf("exited with code %d", c.ExitCode)
		}
		return false, ""
	}
}

func (o *Orchestrator) dependencyError(ctx context.Context, dependant, dep, id, condition string, c *Container, why string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "service %s waits for %s (%s): %s %s", dependant, dep, condition, dep, why)
	if h := strings.TrimSpace(c.HealthLog); h != "" {
		fmt.Fprintf(&b, "\nlast health check output of %s:\n%s", dep, indent(h))
	}
	logs, err := o.eng.Logs(context.WithoutCancel(ctx), id, logTailLines)
	if err == nil && strings.TrimSpace(logs) != "" {
		fmt.Fprintf(&b, "\nlast log lines of %s:\n%s", dep, indent(strings.TrimRight(logs, "\n")))
	}
	return markedError{err: errors.New(b.String()), target: ErrDependency}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
