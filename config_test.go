package main

import (
	"strings"
	"testing"
)

func TestConfigErrorsExitWithStatus2(t *testing.T) {
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
	env := map[string]string{"DISCORD_TOKEN": "t0ken", "WHISUL_API_KEY": "k3y", "HTTP_ADDR": "", "BLOCKED_WORDS": "a,b c"}
	setEnv(t, env)
	c, err := loadConfig()
	if err != nil {
		t.Fatalf("loadConfig(%v) = %v", env, err)
	}
	if c.HTTPAddr != "" || c.PollInterval.String() != "5s" || c.MaxRunning != 20 || len(c.BlockedWords) != 2 || c.DiscordToken.Reveal() != "t0ken" {
		t.Errorf("loadConfig(%v) = %+v; want an empty HTTP_ADDR kept, defaults for the unset, two blocked words", env, c)
	}
}
