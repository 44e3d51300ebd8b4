package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionCommands(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		stdout, stderr, code := runCLI(t, nil, args...)
		if code != 0 || !strings.HasPrefix(stdout, "songbot "+buildVersion()+"\ngo      go1.") {
			t.Errorf("songbot %s = %d\nstdout:\n%s\nstderr:\n%s\nwant 0, the version and the Go version", args[0], code, stdout, stderr)
		}
	}
	if _, stderr, code := runCLI(t, nil, "version", "now"); code != 2 || !strings.Contains(stderr, "version takes no arguments") {
		t.Errorf("songbot version now = %d, %q; want 2", code, stderr)
	}
}

func TestVersionText(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-02-17T15:39:34Z"},
	}}
	tests := []struct {
		name string
		v    string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"ldflags and VCS", "1.2.3", bi, true, "songbot 1.2.3\ngo      go1.26.8\ncommit  0123abcd (modified) 2026-02-17T15:39:34Z\n"},
		{"go install", "dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}, true,
			"songbot v1.4.0\ngo      go1.26.8\ncommit  unknown (built without VCS information, e.g. outside a git checkout)\n"},
		{"no build info", "dev", nil, false, "songbot dev\ngo      unknown (no build information in this binary)\n"},
	}
	for _, tt := range tests {
		if got := versionText(versionOf(tt.v, tt.bi, tt.ok), tt.bi, tt.ok); got != tt.want {
			t.Errorf("%s: versionText(versionOf(%q)) =\n%s\nwant\n%s", tt.name, tt.v, got, tt.want)
		}
	}
}
