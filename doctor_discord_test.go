package main

import (
	"bytes"
	"crypto/ed25519"
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
		{"bot not in the guild", testGuild, func(d *discordtest.Server) discordOptions {
			d.FailNext(http.MethodGet, "/applications/"+d.AppID+"/guilds/"+testGuild+"/commands", 1, http.StatusForbidden, `{"message": "Missing Access", "code": 50001}`)
			return discordOptions{Token: d.Token, APIURL: d.URL, GuildID: testGuild}
		}, false, []string{"ok    discord token", "FAIL  song command   http://127.0.0.1:", " answered 403: check DISCORD_GUILD_ID and that the bot is in that guild"}},
		{"commands not found", "", func(d *discordtest.Server) discordOptions {
			d.FailNext(http.MethodGet, "/applications/"+d.AppID+"/commands", 1, http.StatusNotFound, `{"message": "Unknown Application", "code": 10002}`)
			return discordOptions{Token: d.Token, APIURL: d.URL}
		}, false, []string{"ok    discord token", "FAIL  song command   http://127.0.0.1:", " answered 404: check DISCORD_GUILD_ID and that the bot is in that guild"}},
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

func TestFrontendCheck(t *testing.T) {
	t.Parallel()
	other, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(d *discordtest.Server, o *discordOptions)
		want  string
	}{
		{"gateway as recommended", func(d *discordtest.Server, o *discordOptions) { d.Shards = 4 },
			"ok    gateway        Discord recommends 4 shard(s); this process runs all shards of 4"},
		{"a split of the shards", func(d *discordtest.Server, o *discordOptions) { d.Shards, o.ShardCount, o.ShardIDs = 4, 4, []int{2, 3} },
			"ok    gateway        Discord recommends 4 shard(s); this process runs shards [2 3] of 4"},
		{"fewer shards than recommended", func(d *discordtest.Server, o *discordOptions) { d.Shards, o.ShardCount = 4, 2 },
			"warn  gateway        Discord recommends 4 shard(s); this process runs all shards of 2; 1000 session starts left today: SHARD_COUNT=2 is below"},
		{"no session starts left", func(d *discordtest.Server, o *discordOptions) {
			d.SessionStartLimit.Remaining, d.SessionStartLimit.ResetAfter = 0, 90_000
		}, "none left, the bot waits 1m30s"},
		{"the application's public key", func(d *discordtest.Server, o *discordOptions) { o.Interactions, o.PublicKey = true, d.PublicKey },
			"ok    interactions   DISCORD_PUBLIC_KEY matches the application"},
		{"another public key", func(d *discordtest.Server, o *discordOptions) { o.Interactions, o.PublicKey = true, other },
			"FAIL  interactions   DISCORD_PUBLIC_KEY is not this application's public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := discordtest.NewServer(t)
			registerSong(t, d, "")
			opts := discordOptions{Token: d.Token, APIURL: d.URL}
			tt.setup(d, &opts)
			var out bytes.Buffer
			runChecks(t.Context(), &out, discordChecks(opts))
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output does not contain %q:\n%s", tt.want, out.String())
			}
		})
	}
}
