package features

import (
	"fmt"
	"strconv"
	"strings"
)

// semver is a parsed semantic version x.y.z[-prerelease][+build].
type semver struct {
	major, minor, patch int
	pre                 []string
}

func parseSemver(s string) (semver, error) {
	v := semver{}
	core, _, _ := strings.Cut(s, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return v, fmt.Errorf("%q is not a semantic version x.y.z", s)
	}
	nums := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || (len(p) > 1 && p[0] == '0') {
			return v, fmt.Errorf("%q is not a semantic version x.y.z", s)
		}
		nums[i] = n
	}
	v.major, v.minor, v.patch = nums[0], nums[1], nums[2]
	if hasPre {
		if pre == "" {
			return v, fmt.Errorf("%q has an empty prerelease", s)
		}
		v.pre = strings.Split(pre, ".")
	}
	return v, nil
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare orders versions by semver precedence.
func (a semver) compare(b semver) int {
	if c := cmpInt(a.major, b.major); c != 0 {
		return c
	}
	if c := cmpInt(a.minor, b.minor); c != 0 {
		return c
	}
	if c := cmpInt(a.patch, b.patch); c != 0 {
		return c
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		x, xerr := strconv.Atoi(a.pre[i])
		y, yerr := strconv.Atoi(b.pre[i])
		switch {
		case xerr == nil && yerr == nil:
			if c := cmpInt(x, y); c != 0 {
				return c
			}
		case xerr == nil:
			return -1
		case yerr == nil:
			return 1
		default:
			if c := strings.Compare(a.pre[i], b.pre[i]); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(a.pre), len(b.pre))
}

// maxSatisfying returns the highest published release (prereleases excluded, as npm's semver
// does for ranges) whose major (and minor, when minor >= 0) match; ok is false if none does.
func maxSatisfying(published []string, major, minor int) (semver, bool) {
	var best semver
	found := false
	for _, t := range published {
		v, err := parseSemver(t)
		if err != nil || len(v.pre) > 0 {
			continue
		}
		if (major >= 0 && v.major != major) || (minor >= 0 && v.minor != minor) {
			continue
		}
		if !found || v.compare(best) > 0 {
			best, found = v, true
		}
	}
	return best, found
}

// SemanticTags returns the tags to push for version given the tags already published, like the
// reference's publish command: "x.y.z" always, "x" and "x.y" when version is the highest in
// that range, "latest" when it is the highest overall. It returns nil when version is
// already published.
func SemanticTags(version string, published []string) ([]string, error) {
	if contains(published, version) {
		return nil, nil
	}
	v, err := parseSemver(version)
	if err != nil {
		return nil, fmt.Errorf("version %w", err)
	}
	var tags []string
	add := func(major, minor int, tag string) {
		if best, ok := maxSatisfying(published, major, minor); !ok || v.compare(best) > 0 {
			tags = append(tags, tag)
		}
	}
	add(v.major, -1, strconv.Itoa(v.major))
	add(v.major, v.minor, fmt.Sprintf("%d.%d", v.major, v.minor))
	tags = append(tags, version)
	add(-1, -1, "latest")
	return tags, nil
}
