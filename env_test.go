package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writeSecret writes content to a file of its own and returns the path.
func writeSecret(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSecretsFromFiles(t *testing.T) {
	t.Parallel()
	const token, key, redisURL = "discord-file-token", "wk-file-key-secret", "redis://:pw-from-file@127.0.0.1:6379/0"
	env := map[string]string{
		"DISCORD_TOKEN":       "", // a blank line from .env.example does not clash
		"DISCORD_TOKEN_FILE":  writeSecret(t, token+"\n"),
		"WHISUL_API_KEY_FILE": writeSecret(t, key+"\r\n"),
		"REDIS_URL_FILE":      writeSecret(t, redisURL),
	}
	c, err := loadConfig(envOf(t, env))
	if err != nil {
		t.Fatalf("loadConfig(_FILE variables) = %v", err)
	}
	if c.DiscordToken.Reveal() != token || c.WhisulAPIKey.Reveal() != key || c.RedisURL.Reveal() != redisURL {
		t.Errorf("loadConfig(_FILE variables) read %q, %q, %q; want %q, %q, %q with the trailing newline trimmed",
			c.DiscordToken.Reveal(), c.WhisulAPIKey.Reveal(), c.RedisURL.Reveal(), token, key, redisURL)
	}
}

func TestSecretFileProblems(t *testing.T) {
	t.Parallel()
	const key = "wk-file-key-secret"
	keyFile := writeSecret(t, key)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"both set", map[string]string{"DISCORD_TOKEN": "tok-env-secret", "DISCORD_TOKEN_FILE": writeSecret(t, "tok-file-secret")},
			"both DISCORD_TOKEN and DISCORD_TOKEN_FILE are set: unset one of them"},
		{"missing file", map[string]string{"DISCORD_TOKEN_FILE": "/nonexistent/token"},
			`DISCORD_TOKEN_FILE is "/nonexistent/token", which cannot be read (no such file or directory)`},
		{"empty file", map[string]string{"DISCORD_TOKEN_FILE": writeSecret(t, "\n")},
			"which is empty: put the value in it"},
	}
	for _, tt := range tests {
		tt.env["WHISUL_API_KEY_FILE"] = keyFile
		_, stderr, code := runCLI(t, tt.env)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: songbot = %d, stderr:\n%s\nwant 2 with %q", tt.name, code, stderr, tt.want)
		}
		if strings.Contains(stderr, "WHISUL_API_KEY") {
			t.Errorf("%s: a good WHISUL_API_KEY_FILE is reported as a problem:\n%s", tt.name, stderr)
		}
		assertNoSecrets(t, []string{key, "tok-env-secret", "tok-file-secret"}, stderr)
	}
}

// helpVar matches a variable's first line in songbot --help.
var helpVar = regexp.MustCompile(`^  ([A-Z][A-Z0-9_]*)(?: \((required|default (.+))\))?$`)

func TestHelpListsEveryVariableWithItsDefault(t *testing.T) {
	t.Parallel()
	stdout, _, code := runCLI(t, nil, "--help")
	if code != 0 {
		t.Fatalf("songbot --help = %d", code)
	}
	type entry struct{ name, def string }
	var got []entry
	for line := range strings.Lines(stdout) {
		if m := helpVar.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			def := "—"
			if m[3] != "" {
				def = "`" + m[3] + "`"
			}
			got = append(got, entry{m[1], def})
		}
	}
	rows := readmeConfigTable(t)
	vars := readmeConfigVars(t)
	if len(got) != len(vars) || len(got) != len(rows) {
		t.Fatalf("songbot --help lists %d variables, config.go has %d, README.md's table %d:\n%s", len(got), len(vars), len(rows), stdout)
	}
	for i, g := range got {
		if g.name != vars[i].name || g.name != rows[i].name {
			t.Errorf("variable %d: --help has %s, config.go %s, README.md %s", i+1, g.name, vars[i].name, rows[i].name)
		}
		if g.def != rows[i].def {
			t.Errorf("%s: --help shows default %s, README.md %s", g.name, g.def, rows[i].def)
		}
		if vars[i].required != strings.Contains(stdout, "  "+g.name+" (required)\n") {
			t.Errorf("%s: --help and config.go disagree on whether it is required", g.name)
		}
	}
	for _, name := range []string{"DISCORD_TOKEN_FILE", "WHISUL_API_KEY_FILE", "REDIS_URL_FILE"} {
		if !strings.Contains(stdout, "or "+name+": ") {
			t.Errorf("songbot --help does not offer %s", name)
		}
	}
}
