package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

// Without -ldflags the version comes from Go's embedded build information:
// a module version (go install ...@v0.1.0), else the VCS revision.
func TestVersionFallsBackToBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"module version", debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, "v0.1.0"},
		{"git checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, "devel-0123456789ab-dirty"},
		{"nothing", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
	} {
		if got := fromBuildInfo(&tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLinkerVersionWins(t *testing.T) {
	version = "v9.9.9"
	defer func() { version = "" }()
	if got := String("eventplane"); !strings.HasPrefix(got, "eventplane v9.9.9 (go") {
		t.Errorf("String = %q", got)
	}
}
