package devcontainer

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMount(t *testing.T) {
	tests := []struct {
		in   string
		want Mount
	}{
		{"type=bind,source=/a,target=/b", Mount{Type: "bind", Source: "/a", Target: "/b"}},
		{"src=/a,dst=/b,type=bind,readonly", Mount{Type: "bind", Source: "/a", Target: "/b", ReadOnly: true}},
		{"source=v,destination=/d,type=volume,ro=true", Mount{Type: "volume", Source: "v", Target: "/d", ReadOnly: true}},
		{"type=bind,source=/a,target=/b,readonly=false", Mount{Type: "bind", Source: "/a", Target: "/b"}},
		{"type=bind,source=/a,target=/b,consistency=cached", Mount{Type: "bind", Source: "/a", Target: "/b", Consistency: "cached"}},
		{"type=volume,source=v,target=/v,external=true", Mount{Type: "volume", Source: "v", Target: "/v", External: true}},
		{"type=tmpfs,target=/t,tmpfs-size=64m,bind-propagation=rshared", Mount{Type: "tmpfs", Target: "/t", Extra: []string{"tmpfs-size=64m", "bind-propagation=rshared"}}},
		{`type=bind,"source=/x,y","target=/w,z"`, Mount{Type: "bind", Source: "/x,y", Target: "/w,z"}},
		{"target=/only", Mount{Target: "/only"}},
	}
	for _, tt := range tests {
		got, err := ParseMount(tt.in)
		if err != nil {
			t.Errorf("ParseMount(%q): %v", tt.in, err)
			continue
		}
		tt.want.Spec = tt.in
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseMount(%q) (-want +got):\n%s", tt.in, diff)
		}
		if got.String() != tt.in {
			t.Errorf("String() = %q, want the original %q", got.String(), tt.in)
		}
	}
	for _, bad := range []string{"", "type=bind,source=/a", `type=bind,"source=/a`} {
		if _, err := ParseMount(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMount(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestMountString(t *testing.T) {
	tests := []struct {
		m    Mount
		want string
	}{
		// The reference renders object mounts as type=…,src=…,dst=….
		{Mount{Type: "volume", Source: "v", Target: "/v"}, "type=volume,src=v,dst=/v"},
		{Mount{Type: "volume", Target: "/anon"}, "type=volume,dst=/anon"},
		{Mount{Type: "bind", Source: "/a", Target: "/b", ReadOnly: true, Consistency: "cached", Extra: []string{"bind-propagation=rprivate"}},
			"type=bind,src=/a,dst=/b,readonly,consistency=cached,bind-propagation=rprivate"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		back, err := ParseMount(tt.m.String())
		back.Spec = ""
		if err != nil || !cmp.Equal(back, tt.m) {
			t.Errorf("round trip of %q = %+v, %v", tt.want, back, err)
		}
	}
}

func TestParseMountFlag(t *testing.T) {
	m, err := ParseMountFlag("type=volume,source=cache,target=/cache,external=true")
	if want := (Mount{Type: "volume", Source: "cache", Target: "/cache", External: true}); err != nil || !cmp.Equal(m, want) {
		t.Errorf("ParseMountFlag = %+v, %v", m, err)
	}
	const msg = "Unmatched argument format: mount must match type=<bind|volume>,source=<source>,target=<target>[,external=<true|false>]"
	for _, bad := range []string{"src=/a,dst=/b", "type=bind,source=/a,target=/b,readonly", "type=tmpfs,source=a,target=/b"} {
		_, err := ParseMountFlag(bad)
		if !errors.Is(err, ErrInvalid) || err.Error() != "invalid value: "+msg {
			t.Errorf("ParseMountFlag(%q) error = %v", bad, err)
		}
	}
}
