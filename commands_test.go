package main

import (
	"strings"
	"testing"
)

func TestHelpAndUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		wantCode int
		want     string // on stdout when wantCode is 0, else on stderr
	}{
		{[]string{"--help"}, 0, "usage: songbot [command]"},
		{[]string{"help"}, 0, "usage: songbot [command]"},
		{[]string{"doctor", "--help"}, 0, "usage: songbot doctor"},
		{[]string{"help", "doctor"}, 0, "usage: songbot doctor"},
		{[]string{"help", "song"}, 0, "-json"},
		{[]string{"song", "-h"}, 0, "-json"},
		{[]string{"doctor", "now"}, 2, "doctor takes no arguments"},
		{[]string{"doctor", "--fast"}, 2, "songbot doctor --help"},
		{[]string{"song"}, 2, "give a prompt"},
		{[]string{"sing"}, 2, `unknown command "sing"`},
		{[]string{"help", "sing"}, 2, `unknown command "sing"`},
		{[]string{"help", "help"}, 0, "usage: songbot [command]"},
		{[]string{"help", "--help"}, 0, "usage: songbot [command]"},
		{[]string{"--foo"}, 2, `unknown flag "--foo"`},
		{[]string{"--foo"}, 2, "(run songbot --help)"},
		{[]string{"-v"}, 2, `unknown flag "-v"`},
		{[]string{"help", "--foo"}, 2, `unknown flag "--foo"`},
	}
	for _, tt := range tests {
		stdout, stderr, code := runCLI(t, nil, tt.args...)
		out := stdout
		if tt.wantCode != 0 {
			out = stderr
		}
		if code != tt.wantCode || !strings.Contains(out, tt.want) {
			t.Errorf("songbot %s = %d\nstdout:\n%s\nstderr:\n%s\nwant %d with %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.wantCode, tt.want)
		}
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		stdout, stderr, code := runCLI(t, nil, "help", c.name)
		if code != 0 || !strings.HasPrefix(stdout, "usage: songbot "+c.name) {
			t.Errorf("songbot help %s = %d\nstdout:\n%s\nstderr:\n%s\nwant 0 and its usage", c.name, code, stdout, stderr)
		}
		if !strings.Contains(usage(), "  "+c.name+" ") {
			t.Errorf("songbot --help does not list %s:\n%s", c.name, usage())
		}
	}
}
