package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/songbot-dev/songbot/bot/discordtest"
)

const testGuild = "1100000000000000001"

func TestDiscordChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		registerIn string // "-" registers nowhere
		opts       func(d *discordtest.Server) discordOptions
		wantOK     bool
		want       []string
	}{
		{"registered globally", "", func(d *discordtest.Server) discordOptions {
			return discordOptions{Token: d.Token, APIURL: d.URL}
		}, true, []string{"ok    discord token  accepted: bot songbot", "ok    song command   /song is registered globally"}},
		{"registered in the guild", testGuild, func(d *discordtest.Server) discordOptions {
			return discordOptions{Token: "Bot " + d.Token, APIURL: d.URL, GuildID: testGuild}
		}, true, []string{"ok    song command   /song is registered in guild " + testGuild}},
		{"not registered yet", "-", func(d *discordtest.Server) discordOptions {
			return discordOptions{Token: d.Token, APIURL: d.URL}
		}, true, []string{"ok    discord token", "warn  song command   /song is not registered globally yet; the bot registers it when it connects"}},
		{"registered in another guild", testGuild, func(d *discordtest.Server) discordOptions {
			return discordOptions{Token: d.Token, APIURL: d.URL}
		}, true, []string{"warn  song command   /song is not registered globally yet"}},
		{"wrong token", "", func(d *discordtest.Server) discordOptions {
			return discordOptions{Token: "not-the-token", APIURL: d.URL}
		}, false, []string{"FAIL  discord token  rejected (401)", "DISCORD_TOKEN", "skip  song command   needs an accepted Discord token"}},
		{"unreachable", "", func(d *discordtest.Server) discordOptions {
			return discordOptions{Token: d.Token, APIURL: "http://" + closedAddr(t)}
		}, false, []string{"FAIL  discord token  could not reach Discord", "DISCORD_API_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := discordtest.NewServer(t)
			if tt.registerIn != "-" {
				registerSong(t, d, tt.registerIn)
			}
			opts := tt.opts(d)
			var out bytes.Buffer
			ok := runChecks(t.Context(), &out, discordChecks(opts))
			if ok != tt.wantOK {
				t.Errorf("Discord checks = %v; want %v; output:\n%s", ok, tt.wantOK, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output does not contain %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), d.Token) {
				t.Errorf("output shows the token:\n%s", out.String())
			}
		})
	}
}

// registerSong registers /song as the bot does, globally or in guild.
func registerSong(t *testing.T, d *discordtest.Server, guild string) {
	t.Helper()
	path := "/api/v9/applications/" + d.AppID + "/commands"
	if guild != "" {
		path = "/api/v9/applications/" + d.AppID + "/guilds/" + guild + "/commands"
	}
	body := `[{"name":"song","type":1,"description":"Make an original song from a description"}]`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, d.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot "+d.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s = %d", path, resp.StatusCode)
	}
}
