package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// manageServer is a member permission bitfield with Manage Server (32).
const manageServer = "32"

// admin sends /songadmin <sub> in guild as a member with Manage Server and
// returns its private answer's text.
func (h *harness) admin(guild, sub string, options map[string]any) string {
	h.t.Helper()
	in, err := h.discord.SendCommand(h.t.Context(), "songadmin", discordtest.SongCommand{
		GuildID: guild, UserID: "admin1", Subcommand: sub, Options: options, Permissions: manageServer,
	})
	if err != nil {
		h.t.Fatalf("/songadmin %s = %v", sub, err)
	}
	r := h.reply(in)
	if r.Type != 5 || r.Data.Flags&64 == 0 {
		h.t.Fatalf("/songadmin %s answered %+v; want a private deferral", sub, r)
	}
	var m discordtest.Message
	h.wait("the answer to /songadmin "+sub, func() bool {
		var ok bool
		m, ok = h.discord.Original(in.Token)
		return ok && !m.Thinking
	})
	return m.Content
}

// songIn sends /song by user in guild ("" = a DM) and returns its first
// answer.
func (h *harness) songIn(user, guild, prompt string) (discordtest.Interaction, reply) {
	h.t.Helper()
	c := discordtest.SongCommand{UserID: user, GuildID: guild, Prompt: prompt}
	if guild == "" {
		c.Where = discordtest.InDM
	}
	in := h.song(c)
	return in, h.reply(in)
}

func TestSongAdminIsOfferedOnlyToServerManagersInServers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.start()
	var def struct {
		Perms    string `json:"default_member_permissions"`
		Contexts []int  `json:"contexts"`
		Types    []int  `json:"integration_types"`
	}
	found := false
	for _, raw := range h.discord.Commands("") {
		if strings.Contains(string(raw), `"name":"songadmin"`) {
			found = json.Unmarshal(raw, &def) == nil
		}
	}
	if !found || def.Perms != "32" || fmt.Sprint(def.Contexts) != "[0]" || fmt.Sprint(def.Types) != "[0]" {
		t.Fatalf("songadmin registered as %+v (found %v); want permissions 32, contexts [0], integration types [0]", def, found)
	}
	// Discord's client does not offer it to members without the
	// permission, nor in DMs.
	for _, c := range []discordtest.SongCommand{
		{UserID: "u1", Subcommand: "queue"},
		{UserID: "u1", Subcommand: "queue", Where: discordtest.InDM},
	} {
		if _, err := h.discord.SendCommand(t.Context(), "songadmin", c); !errors.Is(err, discordtest.ErrCommandHidden) {
			t.Errorf("SendCommand(songadmin, %+v) = %v; want ErrCommandHidden", c, err)
		}
	}
	if got := h.admin("g1", "queue", nil); !strings.Contains(got, "Nothing is being made") {
		t.Errorf("/songadmin queue = %q", got)
	}
}

func TestPauseRefusesInThatServerOnlyAcrossProcesses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{} })
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	h.start() // a second process on the same Redis: interactions alternate between them
	if got := h.admin("g1", "pause", map[string]any{"reason": "the talk is on"}); !strings.Contains(got, "Paused") {
		t.Fatalf("pause = %q", got)
	}
	for i := range 2 { // one lands on each process
		_, r := h.songIn(fmt.Sprint("u", i), "g1", "a song")
		if !r.refused() || !strings.Contains(r.Data.Content, "paused") || !strings.Contains(r.Data.Content, "the talk is on") {
			t.Errorf("/song in the paused server = %+v; want a private refusal with the reason", r)
		}
	}
	in, r := h.songIn("u1", "g2", "another server's song")
	if r.refused() {
		t.Fatalf("/song in another server = %+v; want it accepted", r)
	}
	embed(t, h.finalReply(in))
	if _, r := h.songIn("u1", "", "a DM song"); r.refused() {
		t.Errorf("/song in a DM = %+v; want it accepted", r)
	}
	if got := h.admin("g1", "resume", nil); !strings.Contains(got, "Resumed") {
		t.Fatalf("resume = %q", got)
	}
	in, r = h.songIn("u3", "g1", "after the talk")
	if r.refused() {
		t.Fatalf("/song after resume = %+v; want it accepted", r)
	}
	embed(t, h.finalReply(in))
	if n := len(h.whisul.Jobs()); n != 3 {
		t.Errorf("Whisul got %d jobs; want 3 (no paused song reached it)", n)
	}
}

func TestPauseAndOverridesSurviveARestartOfTheEmbeddedStore(t *testing.T) {
	t.Parallel()
	h := newEmbeddedHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{UserMaxActive: 5} })
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	first := h.start()
	h.admin("g1", "pause", nil)
	h.admin("g2", "limits", map[string]any{"user_active": 1})
	if err := first.stop(t); err != nil {
		t.Fatalf("stop = %v", err)
	}
	h.start() // the same file, reopened
	if _, r := h.songIn("u1", "g1", "a song"); !r.refused() || !strings.Contains(r.Data.Content, "paused") {
		t.Errorf("/song in the paused server after a restart = %+v; want a refusal", r)
	}
	if _, r := h.songIn("u1", "g2", "first"); r.refused() {
		t.Fatalf("first /song in g2 = %+v; want it accepted", r)
	}
	if _, r := h.songIn("u1", "g2", "second"); !r.refused() || !strings.Contains(r.Data.Content, "1 song") {
		t.Errorf("second /song in g2 = %+v; want the server's user_active of 1 to refuse it", r)
	}
	if _, r := h.songIn("u1", "g3", "elsewhere"); r.refused() {
		t.Errorf("/song in g3 = %+v; want the operator's limit of 5 there", r)
	}
}

func TestEachOverrideAppliesAtItsBoundary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		operator storage.Limits
		option   string
		value    int
		// songs are (user, guild) in order; the last one is refused with
		// want, none before it.
		songs [][2]string
		want  string
	}{
		{"user_active tighter", storage.Limits{UserMaxActive: 5}, "user_active", 1, [][2]string{{"u1", "g1"}, {"u1", "g1"}}, "1 song"},
		{"user_active looser", storage.Limits{UserMaxActive: 1}, "user_active", 3, [][2]string{{"u1", "g1"}, {"u1", "g1"}, {"u1", "g1"}, {"u1", "g1"}}, "3 songs"},
		{"user_cooldown", storage.Limits{}, "user_cooldown", 3600, [][2]string{{"u1", "g1"}, {"u2", "g1"}, {"u1", "g1"}}, "<t:"},
		{"user_daily", storage.Limits{}, "user_daily", 2, [][2]string{{"u1", "g1"}, {"u1", "g1"}, {"u1", "g1"}}, "daily limit"},
		{"guild_active", storage.Limits{}, "guild_active", 2, [][2]string{{"u1", "g1"}, {"u2", "g1"}, {"u3", "g2"}, {"u3", "g1"}}, "2 songs"},
		{"guild_daily", storage.Limits{GuildDailyLimit: 10}, "guild_daily", 2, [][2]string{{"u1", "g1"}, {"u2", "g1"}, {"u3", "g2"}, {"u3", "g1"}}, "its 2 songs for today"},
		{"off in this server", storage.Limits{UserMaxActive: 1}, "user_active", 0, [][2]string{{"u1", "g1"}, {"u1", "g1"}, {"u1", "g1"}, {"u1", "g2"}}, "1 song"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *bot.Options) { o.Limits = tt.operator })
			h.whisul.SetDefault(whisultest.Script{After: time.Hour})
			h.start()
			if got := h.admin("g1", "limits", map[string]any{tt.option: tt.value}); !strings.Contains(got, "Limits changed") {
				t.Fatalf("limits = %q", got)
			}
			for i, s := range tt.songs {
				_, r := h.songIn(s[0], s[1], fmt.Sprint("song ", i))
				last := i == len(tt.songs)-1
				if r.refused() != last {
					t.Fatalf("song %d (%v) refused=%v: %q; want only the last refused", i, s, r.refused(), r.Data.Content)
				}
				if last && !strings.Contains(r.Data.Content, tt.want) {
					t.Errorf("refusal = %q; want it to contain %q", r.Data.Content, tt.want)
				}
			}
		})
	}
}

func TestTheBotsDailyLimitHoldsAcrossTwoProcesses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{DailyLimit: 3} })
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	h.start()
	for i := range 3 {
		if _, r := h.songIn(fmt.Sprint("u", i), fmt.Sprint("g", i), "a song"); r.refused() {
			t.Fatalf("song %d = %+v; want it accepted", i, r)
		}
	}
	for i := range 2 { // one lands on each process
		_, r := h.songIn("u9", "g9", "one too many")
		if !r.refused() || !strings.Contains(r.Data.Content, "all the songs I can for today") || !strings.Contains(r.Data.Content, "<t:") {
			t.Errorf("song %d past the daily limit = %+v; want a refusal saying when it resets", 3+i, r)
		}
	}
	// A server's admins cannot raise it: no option exists for it.
	if got := h.admin("g9", "limits", nil); !strings.Contains(got, "3 per day") {
		t.Errorf("limits shown = %q; want the operator's daily limit", got)
	}
}

func TestDMsAreRefusedUnderAnAllowListUnlessAllowed(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprint("ALLOW_DMS=", allow), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *bot.Options) { o.AllowedGuildIDs, o.AllowDMs = []string{"g1"}, allow })
			h.whisul.SetDefault(whisultest.Script{After: time.Hour})
			h.start()
			if _, r := h.songIn("u1", "g1", "allowed server"); r.refused() {
				t.Fatalf("/song in the allowed server = %+v", r)
			}
			if _, r := h.songIn("u2", "g2", "other server"); !r.refused() {
				t.Errorf("/song in another server = %+v; want a refusal", r)
			}
			_, r := h.songIn("u3", "", "a DM")
			if r.refused() == allow {
				t.Errorf("/song in a DM with ALLOW_DMS=%v: refused=%v (%q)", allow, r.refused(), r.Data.Content)
			}
			if !allow && !strings.Contains(r.Data.Content, "not in DMs") {
				t.Errorf("DM refusal = %q", r.Data.Content)
			}
		})
	}
}

func TestSongsShowsWhatIsOnTheWayAndWhatIsLeft(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) {
		o.Limits = storage.Limits{MaxRunning: 1, UserDailyLimit: 3, UserCooldown: time.Hour}
	})
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	h.start()
	h.songIn("u1", "g1", "someone else's")
	h.songIn("u2", "g1", "my sea shanty")
	in, err := h.discord.SendCommand(t.Context(), "songs", discordtest.SongCommand{UserID: "u2", GuildID: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	r := h.reply(in)
	for _, want := range []string{"On the way", "1st in line: my sea shanty", "2 more songs today", "Your next song can start <t:"} {
		if !strings.Contains(r.Data.Content, want) {
			t.Errorf("/songs = %q; want it to contain %q", r.Data.Content, want)
		}
	}
	if strings.Contains(r.Data.Content, "someone else") {
		t.Errorf("/songs = %q; shows another user's song", r.Data.Content)
	}
}
