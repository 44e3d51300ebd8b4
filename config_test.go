package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"
)

func TestConfigErrorsExitWithStatus2(t *testing.T) {
	t.Parallel()
	const token = "discord-secret-token"
	tests := []struct {
		name string
		env  map[string]string
		want []string // each named in the message
	}{
		{"nothing set", nil, []string{"DISCORD_TOKEN is not set", "WHISUL_API_KEY is not set", "Reset Token", "API keys"}},
		{"no Discord token", map[string]string{"WHISUL_API_KEY": testWhisulKey}, []string{"DISCORD_TOKEN"}},
		{"no Whisul key", map[string]string{"DISCORD_TOKEN": token}, []string{"WHISUL_API_KEY"}},
		{"bad values", map[string]string{"DISCORD_TOKEN": token, "WHISUL_API_KEY": testWhisulKey, "POLL_INTERVAL": "soon", "MAX_RUNNING": "many", "LOG_LEVEL": "loud", "USER_COOLDOWN": "-1s"},
			[]string{"4 problems", `POLL_INTERVAL is "soon": set it to a duration`, `MAX_RUNNING is "many": set it to a whole number`, "USER_COOLDOWN cannot be negative", "LOG_LEVEL is \"loud\": set it to debug"}},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.env)
		if code != 2 {
			t.Errorf("%s: songbot = %d; want 2\n%s", tt.name, code, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: songbot's message does not say %q:\n%s", tt.name, w, stderr)
			}
		}
		assertNoSecrets(t, []string{testWhisulKey, token}, stderr)
	}
}

func TestLoadConfigDefaultsAndEmptyValues(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DISCORD_TOKEN": "t0ken", "WHISUL_API_KEY": "k3y", "HTTP_ADDR": "", "BLOCKED_WORDS": "a,b c"}
	c, err := loadConfig(envOf(t, env))
	if err != nil {
		t.Fatalf("loadConfig(%v) = %v", env, err)
	}
	if c.HTTPAddr != "" || c.PollInterval.String() != "5s" || c.MaxRunning != 20 || len(c.BlockedWords) != 2 || c.DiscordToken.Reveal() != "t0ken" {
		t.Errorf("loadConfig(%v) = %+v; want an empty HTTP_ADDR kept, defaults for the unset, two blocked words", env, c)
	}
}

// TestLoadConfigDecodesAsEnvconfig checks loadConfig's decoding, which
// reads a lookupFunc, against envconfig.Process's, which reads the process
// environment: the same values give the same config, and the values
// envconfig refuses are the ones loadConfig reports. It sets the process
// environment, so it is the one test here that is not parallel.
func TestLoadConfigDecodesAsEnvconfig(t *testing.T) {
	good := map[string]string{
		"DISCORD_TOKEN": "t0ken", "WHISUL_API_KEY": "k3y", "REDIS_URL": "redis://:pw@h:6379/0",
		"POLL_INTERVAL": "7s", "MAX_RUNNING": "0x10", "WHISUL_MAX_RPS": "2.5", "ALLOW_DMS": "true",
		"ALLOWED_GUILD_IDS": "1,2", "BLOCKED_USER_IDS": " ", "BLOCKED_WORDS": "", "HTTP_ADDR": "",
	}
	var want config
	withProcessEnv(t, good, func() {
		if err := envconfig.Process("", &want); err != nil {
			t.Fatalf("envconfig.Process(%v) = %v", good, err)
		}
	})
	got, err := loadConfig(envOf(t, good))
	if err != nil {
		t.Fatalf("loadConfig(%v) = %v", good, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loadConfig(%v) =\n%+v\nenvconfig.Process gives\n%+v", good, got, want)
	}

	for name, bad := range map[string]string{"ALLOW_DMS": "maybe", "WHISUL_MAX_RPS": "fast", "MAX_QUEUED": "1.5", "JOB_TIMEOUT": "30"} {
		env := maps.Clone(good)
		env[name] = bad
		var pe *envconfig.ParseError
		withProcessEnv(t, env, func() {
			if err := envconfig.Process("", &config{}); !errors.As(err, &pe) || pe.KeyName != name {
				t.Errorf("envconfig.Process with %s=%q = %v; want it refused", name, bad, err)
			}
		})
		if _, err := loadConfig(envOf(t, env)); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s is %q", name, bad)) {
			t.Errorf("loadConfig with %s=%q = %v; want it reported", name, bad, err)
		}
	}
}

// withProcessEnv runs f with env as the process's environment for every
// variable config reads, restoring it after.
func withProcessEnv(t *testing.T, env map[string]string, f func()) {
	t.Helper()
	for _, v := range readmeConfigVars(t) {
		old, had := os.LookupEnv(v.name)
		if value, ok := env[v.name]; ok {
			os.Setenv(v.name, value)
		} else {
			os.Unsetenv(v.name)
		}
		defer func() {
			if had {
				os.Setenv(v.name, old)
			} else {
				os.Unsetenv(v.name)
			}
		}()
	}
	f()
}
