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

const noCommit = "unknown (built without VCS information: outside a git checkout, or an image built without --build-arg REVISION)\n"

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
			"songbot v1.4.0\ngo      go1.26.8\ncommit  " + noCommit},
		{"no build info", "dev", nil, false, "songbot dev\ngo      unknown (no build information in this binary)\ncommit  " + noCommit},
	}
	for _, tt := range tests {
		if got := versionText(versionOf(tt.v, tt.bi, tt.ok), tt.bi, tt.ok); got != tt.want {
			t.Errorf("%s: versionText(versionOf(%q)) =\n%s\nwant\n%s", tt.name, tt.v, got, tt.want)
		}
	}
}

// TestVersionTextRevisionFallback sets main.revision as the Dockerfile's
// -X main.revision=${REVISION} does. It changes a package variable, so it
// does not run in parallel (the parallel tests start after it ends).
func TestVersionTextRevisionFallback(t *testing.T) {
	old := revision
	revision = "fedcba98"
	t.Cleanup(func() { revision = old })
	noVCS := &debug.BuildInfo{GoVersion: "go1.26.8"}
	withVCS := &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}}}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no vcs.revision", noVCS, true, "songbot 1.2.3\ngo      go1.26.8\ncommit  fedcba98\n"},
		{"no build info", nil, false, "songbot 1.2.3\ngo      unknown (no build information in this binary)\ncommit  fedcba98\n"},
		{"vcs.revision wins", withVCS, true, "songbot 1.2.3\ngo      go1.26.8\ncommit  0123abcd\n"},
	}
	for _, tt := range tests {
		if got := versionText("1.2.3", tt.bi, tt.ok); got != tt.want {
			t.Errorf("%s: versionText with revision %q =\n%s\nwant\n%s", tt.name, revision, got, tt.want)
		}
	}
	// What songbot version prints in a binary built without VCS
	// information, like the test binary; with VCS information the go
	// command's revision is printed instead.
	stdout, _, code := runCLI(t, nil, "version")
	if bi, ok := debug.ReadBuildInfo(); ok && !hasSetting(bi, "vcs.revision") && (code != 0 || !strings.Contains(stdout, "\ncommit  fedcba98\n")) {
		t.Errorf("songbot version = %d\n%s\nwant commit fedcba98 from main.revision", code, stdout)
	}
}

func hasSetting(bi *debug.BuildInfo, key string) bool {
	for _, s := range bi.Settings {
		if s.Key == key && s.Value != "" {
			return true
		}
	}
	return false
}
