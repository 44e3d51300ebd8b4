package main

import (
	"maps"
	"regexp"
	"strings"
	"testing"

	"github.com/songbot-dev/songbot/storage/storagetest"
)

// doctorLine matches one check line: verdict, name, detail.
var doctorLine = regexp.MustCompile(`^(ok|warn|FAIL|skip) +(config|store|whisul key|discord token|song command|gateway|interactions)  +\S`)

// verdicts maps each check of doctor's output to its verdict.
func verdicts(t *testing.T, out string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for line := range strings.Lines(out) {
		m := doctorLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("doctor printed a line that is not a check: %q", line)
			continue
		}
		got[m[2]] = m[1]
	}
	return got
}

func TestDoctorPassesWhileTheBotRuns(t *testing.T) {
	t.Parallel()
	redisPrefix := storagetest.Prefix(t)
	storagetest.DeleteKeysAtCleanup(t, redisPrefix)
	tests := []struct {
		name      string
		env       map[string]string
		wantStore string
	}{
		{"redis", map[string]string{"REDIS_URL": storagetest.RedisURL(t), "REDIS_PREFIX": redisPrefix}, "Redis at redis://"},
		{"embedded", map[string]string{"DATA_DIR": t.TempDir()}, "in use by a running songbot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.env["HTTP_ADDR"] = ""
			f := newFakes(t, tt.env)
			f.start(t) // registers /song
			stdout, stderr, code := runCLI(t, f.env, "doctor")
			if code != 0 {
				t.Errorf("doctor exit status = %d; want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			want := map[string]string{"config": "ok", "store": "ok", "whisul key": "ok", "discord token": "ok", "gateway": "ok", "song command": "ok"}
			if got := verdicts(t, stdout); !maps.Equal(got, want) {
				t.Errorf("doctor verdicts = %v; want %v\n%s", got, want, stdout)
			}
			if !strings.Contains(stdout, tt.wantStore) {
				t.Errorf("the store line does not say %q:\n%s", tt.wantStore, stdout)
			}
			assertNoSecrets(t, []string{testWhisulKey, f.discord.Token}, stdout, stderr)
			if n := len(f.whisul.Jobs()); n != 0 {
				t.Errorf("doctor created %d jobs at Whisul; want none", n)
			}
		})
	}
}

func TestDoctorFailures(t *testing.T) {
	t.Parallel()
	const wrongKey = "wk-wrong-doctor-secret"
	tests := []struct {
		name  string
		env   func(f *fakes) map[string]string
		want  map[string]string
		lines []string
	}{
		{"wrong whisul key, command never registered", func(f *fakes) map[string]string {
			return map[string]string{"WHISUL_API_KEY": wrongKey}
		}, map[string]string{"config": "ok", "store": "ok", "whisul key": "FAIL", "discord token": "ok", "gateway": "ok", "song command": "warn"},
			[]string{"rejected (401)", "set WHISUL_API_KEY", "the bot registers it when it connects"}},
		{"wrong discord token", func(f *fakes) map[string]string {
			return map[string]string{"DISCORD_TOKEN": "wrong-discord-secret"}
		}, map[string]string{"config": "ok", "store": "ok", "whisul key": "ok", "discord token": "FAIL", "gateway": "skip", "song command": "skip"},
			[]string{"set DISCORD_TOKEN"}},
		{"redis down", func(f *fakes) map[string]string {
			return map[string]string{"REDIS_URL": "redis://:redis-password-secret@127.0.0.1:1"}
		}, map[string]string{"config": "ok", "store": "FAIL", "whisul key": "ok", "discord token": "ok", "gateway": "ok", "song command": "warn"},
			[]string{"Redis at redis://127.0.0.1:1", "check REDIS_URL"}},
		{"no discord token", func(f *fakes) map[string]string {
			return map[string]string{"DISCORD_TOKEN": ""}
		}, map[string]string{"config": "FAIL", "store": "skip", "whisul key": "skip", "discord token": "skip", "gateway": "skip", "song command": "skip"},
			[]string{"DISCORD_TOKEN", "needs a valid configuration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t, map[string]string{"DATA_DIR": t.TempDir()})
			for k, v := range tt.env(f) {
				f.env[k] = v
			}
			stdout, stderr, code := runCLI(t, f.env, "doctor")
			if code != 1 {
				t.Errorf("doctor exit status = %d; want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if got := verdicts(t, stdout); !maps.Equal(got, tt.want) {
				t.Errorf("doctor verdicts = %v; want %v\n%s", got, tt.want, stdout)
			}
			for _, l := range tt.lines {
				if !strings.Contains(stdout, l) {
					t.Errorf("doctor output lacks %q:\n%s", l, stdout)
				}
			}
			assertNoSecrets(t, []string{testWhisulKey, wrongKey, f.discord.Token, "wrong-discord-secret", "redis-password-secret"}, stdout, stderr)
		})
	}
}

func TestDoctorWarnsBeforeTheFirstStart(t *testing.T) {
	t.Parallel()
	f := newFakes(t, map[string]string{"DATA_DIR": t.TempDir()})
	stdout, stderr, code := runCLI(t, f.env, "doctor")
	if code != 0 {
		t.Errorf("doctor exit status = %d; want 0 when /song is only missing\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := map[string]string{"config": "ok", "store": "ok", "whisul key": "ok", "discord token": "ok", "gateway": "ok", "song command": "warn"}
	if got := verdicts(t, stdout); !maps.Equal(got, want) {
		t.Errorf("doctor verdicts = %v; want %v\n%s", got, want, stdout)
	}
	if !strings.Contains(stdout, "warn  song command   /song is not registered globally yet; the bot registers it when it connects") {
		t.Errorf("the warn line does not say the bot registers /song itself:\n%s", stdout)
	}
}
