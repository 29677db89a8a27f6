package features

import (
	"fmt"
	"strings"
)

// cycleError finds one cycle among the nodes that could not be installed and names it.
func (o *orderer) cycleError(remaining []*node) error {
	edges := func(n *node) []*node {
		var out []*node
		for _, r := range remaining {
			for _, d := range n.dependsOn {
				if o.equals(r, d) {
					out = append(out, r)
				}
			}
			for _, d := range n.installsAfter {
				if o.softMatch(r, d) {
					out = append(out, r)
				}
			}
		}
		return out
	}
	state := map[*node]int{} // 1 visiting, 2 done
	var stack []*node
	var cycle []*node
	var visit func(n *node) bool
	visit = func(n *node) bool {
		state[n] = 1
		stack = append(stack, n)
		for _, m := range edges(n) {
			if state[m] == 1 {
				for i, s := range stack {
					if s == m {
						cycle = append(append(cycle, stack[i:]...), m)
						return true
					}
				}
			}
			if state[m] == 0 && visit(m) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = 2
		return false
	}
	for _, n := range remaining {
		if state[n] == 0 && visit(n) {
			break
		}
	}
	names := make([]string, len(cycle))
	for i, n := range cycle {
		names[i] = n.String()
	}
	if len(names) == 0 {
		for _, n := range remaining {
			names = append(names, n.String())
		}
		return fmt.Errorf("%w: cannot order %s", ErrCycle, strings.Join(names, ", "))
	}
	return fmt.Errorf("%w: %s", ErrCycle, strings.Join(names, " -> "))
}
