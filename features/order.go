package features

import (
	"sort"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// node is one feature in the dependency graph, as the reference CLI's install-order algorithm
// (containerFeaturesOrder.ts) sees it.
type node struct {
	userID   string
	options  any // the user's value as written: map[string]any, string, bool
	ref      Ref
	localDir string // KindLocal: resolved folder
	digest   string // KindOCI: manifest digest
	aliases  []string
	priority int

	dependsOn     []*node
	installsAfter []*node

	art    *artifact // fetched content; nil for soft-dependency and override nodes
	parent *node     // the feature whose dependsOn added this node
}

// String names the node in messages: the reference, plus its options when it has any (the
// same feature may be in the graph twice with different options).
func (n *node) String() string {
	if m, ok := asMap(n.options); ok && len(m) == 0 {
		return n.userID
	}
	if s, ok := n.options.(string); ok {
		return n.userID + " " + jsQuote(s)
	}
	return n.userID + " " + stringify(n.options, 0)
}

// orderer holds the collator that emulates JavaScript's String.prototype.localeCompare.
type orderer struct {
	coll *collate.Collator
}

func newOrderer() *orderer { return &orderer{coll: collate.New(language.English)} }

func (o *orderer) lc(a, b string) int { return o.coll.CompareString(a, b) }

// jsTypeof names a user option value's JavaScript type.
func jsTypeof(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, int:
		return "number"
	}
	return "object"
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// optionsCompare orders two user option values: strings by locale, false before true, objects
// by number of keys (fewer first), then sorted key names, then values.
func (o *orderer) optionsCompare(a, b any) int {
	if as, ok := a.(string); ok {
		if bs, ok := b.(string); ok {
			return o.lc(as, bs)
		}
	}
	if ab, ok := a.(bool); ok {
		if bb, ok := b.(bool); ok {
			return boolCmp(ab, bb)
		}
	}
	am, aok := asMap(a)
	bm, bok := asMap(b)
	if aok && bok {
		if len(am) != len(bm) {
			return len(am) - len(bm)
		}
		ak, bk := sortedKeys(am), sortedKeys(bm)
		for i := range ak {
			if ak[i] != bk[i] {
				return o.lc(ak[i], bk[i])
			}
			av, bv := am[ak[i]], bm[bk[i]]
			if as, ok := av.(string); ok {
				if bs, ok := bv.(string); ok {
					if v := o.lc(as, bs); v != 0 {
						return v
					}
				}
			}
			if ab, ok := av.(bool); ok {
				if bb, ok := bv.(bool); ok {
					if v := boolCmp(ab, bb); v != 0 {
						return v
					}
				}
			}
		}
		return 0
	}
	return o.lc(jsTypeof(a), jsTypeof(b))
}

func asMap(v any) (map[string]any, bool) {
	switch t := v.(type) {
	case nil:
		return map[string]any{}, true
	case map[string]any:
		return t, true
	case *object:
		return plain(t).(map[string]any), true
	}
	return nil, false
}

func (o *orderer) ociResourceCompare(a, b *node) int {
	an := a.ref.Registry + "/" + a.ref.Namespace
	bn := b.ref.Registry + "/" + b.ref.Namespace
	if an != bn {
		return o.lc(an, bn)
	}
	aIDs, bIDs := a.aliases, b.aliases
	if aIDs == nil {
		aIDs = []string{a.ref.ID}
	}
	if bIDs == nil {
		bIDs = []string{b.ref.ID}
	}
	for _, x := range aIDs {
		for _, y := range bIDs {
			if x == y {
				return 0
			}
		}
	}
	return o.lc(a.ref.ID, b.ref.ID)
}

// compare is the round-stable comparator: negative puts a first.
func (o *orderer) compare(a, b *node) int {
	if a.ref.Kind != b.ref.Kind {
		return o.lc(a.userID, b.userID)
	}
	switch a.ref.Kind {
	case KindOCI:
		if a.digest == b.digest && o.optionsCompare(a.options, b.options) == 0 {
			return 0
		}
		if v := o.ociResourceCompare(a, b); v != 0 {
			return v
		}
		if a.ref.Tag != "" && b.ref.Tag != "" && a.ref.Tag != b.ref.Tag {
			return o.lc(a.ref.Tag, b.ref.Tag)
		}
		if v := o.optionsCompare(a.options, b.options); v != 0 {
			return v
		}
		if a.digest != b.digest {
			return o.lc(a.digest, b.digest)
		}
		return 0
	case KindLocal:
		if v := o.lc(a.localDir, b.localDir); v != 0 {
			return v
		}
		return o.optionsCompare(a.options, b.options)
	default:
		if v := o.lc(a.ref.URL, b.ref.URL); v != 0 {
			return v
		}
		return o.optionsCompare(a.options, b.options)
	}
}

func (o *orderer) equals(a, b *node) bool {
	return a.ref.Kind == b.ref.Kind && o.compare(a, b) == 0
}

// softMatch reports whether n satisfies the soft dependency (installsAfter or override entry)
// dep: same resource, path or URL. For OCI, renamed features match through legacyIds. The
// reference fetches the soft dependency's metadata for its aliases; mochi uses the aliases of
// the installed node instead (same registry and namespace, both ids among its currentId and
// legacyIds), which gives the same answer without a network request.
func (o *orderer) softMatch(n, dep *node) bool {
	if n.ref.Kind != dep.ref.Kind {
		return false
	}
	switch n.ref.Kind {
	case KindOCI:
		if n.ref.Resource == dep.ref.Resource {
			return true
		}
		if n.ref.Registry != dep.ref.Registry || n.ref.Namespace != dep.ref.Namespace {
			return false
		}
		return contains(n.aliases, dep.ref.ID) && contains(n.aliases, n.ref.ID)
	case KindLocal:
		return n.localDir == dep.localDir
	default:
		return n.ref.URL == dep.ref.URL
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// applyOverrides gives every node matching entry i of overrideFeatureInstallOrder (n entries)
// the round priority n-i.
func (o *orderer) applyOverrides(worklist []*node, overrides []*node) {
	n := len(overrides)
	for i := n - 1; i >= 0; i-- {
		prio := n - i
		for _, w := range worklist {
			if o.softMatch(w, overrides[i]) && prio > w.priority {
				w.priority = prio
			}
		}
	}
}

// installOrder computes the install order of the deduplicated worklist in rounds: every node
// whose hard and soft dependencies are installed is a candidate, only the candidates with the
// highest round priority are committed, sorted by compare.
func (o *orderer) installOrder(worklist []*node) ([]*node, error) {
	for _, n := range worklist {
		kept := n.installsAfter[:0]
		for _, dep := range n.installsAfter {
			for _, w := range worklist {
				if o.softMatch(w, dep) {
					kept = append(kept, dep)
					break
				}
			}
		}
		n.installsAfter = kept
	}
	remaining := append([]*node(nil), worklist...)
	var installed []*node
	isInstalled := func(dep *node, soft bool) bool {
		for _, i := range installed {
			if (soft && o.softMatch(i, dep)) || (!soft && o.equals(i, dep)) {
				return true
			}
		}
		return false
	}
	for len(remaining) > 0 {
		var round []*node
		for _, n := range remaining {
			ok := true
			for _, d := range n.dependsOn {
				ok = ok && isInstalled(d, false)
			}
			for _, d := range n.installsAfter {
				ok = ok && isInstalled(d, true)
			}
			if ok {
				round = append(round, n)
			}
		}
		if len(round) == 0 {
			return nil, o.cycleError(remaining)
		}
		maxPrio := round[0].priority
		for _, n := range round {
			maxPrio = max(maxPrio, n.priority)
		}
		kept := round[:0]
		for _, n := range round {
			if n.priority == maxPrio {
				kept = append(kept, n)
			}
		}
		round = kept
		rest := remaining[:0:0]
		for _, n := range remaining {
			in := false
			for _, r := range round {
				if o.equals(r, n) {
					in = true
					break
				}
			}
			if !in {
				rest = append(rest, n)
			}
		}
		remaining = rest
		sort.SliceStable(round, func(i, j int) bool { return o.compare(round[i], round[j]) < 0 })
		installed = append(installed, round...)
	}
	return installed, nil
}

func sortStrings(s []string, cmp func(a, b string) int) {
	sort.SliceStable(s, func(i, j int) bool { return cmp(s[i], s[j]) < 0 })
}
