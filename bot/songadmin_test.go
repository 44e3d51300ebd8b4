package bot

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
)

func TestSongAdminIsForServerManagersInServersOnly(t *testing.T) {
	t.Parallel()
	b := newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{}, fakeWhisul{})
	var def *discordgo.ApplicationCommand
	for _, d := range b.handlers.definitions() {
		if d.Name == "songadmin" {
			def = d
		}
	}
	if def == nil {
		t.Fatal("songadmin is not registered")
	}
	if def.DefaultMemberPermissions == nil || *def.DefaultMemberPermissions != 32 {
		t.Errorf("default_member_permissions = %v; want 32 (Manage Server)", def.DefaultMemberPermissions)
	}
	if def.Contexts == nil || len(*def.Contexts) != 1 || (*def.Contexts)[0] != discordgo.InteractionContextGuild {
		t.Errorf("contexts = %v; want [0] (guild only)", def.Contexts)
	}
	if def.IntegrationTypes == nil || len(*def.IntegrationTypes) != 1 || (*def.IntegrationTypes)[0] != discordgo.ApplicationIntegrationGuildInstall {
		t.Errorf("integration_types = %v; want [0] (guild install)", def.IntegrationTypes)
	}
	var subs []string
	for _, o := range def.Options {
		if o.Type != discordgo.ApplicationCommandOptionSubCommand {
			t.Errorf("option %s is of type %v; want a subcommand", o.Name, o.Type)
		}
		subs = append(subs, o.Name)
	}
	if got := strings.Join(subs, ","); got != "pause,resume,limits,queue,showcase" {
		t.Errorf("subcommands = %s", got)
	}
}

// memorySettings is ServerSettings over a map, as the stores keep them.
type memorySettings struct {
	mu sync.Mutex
	m  map[string]storage.GuildSettings
}

func (s *memorySettings) fake() fakeSettings {
	return fakeSettings{
		GuildSettingsFn: func(g string) (storage.GuildSettings, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.m[g], nil
		},
		UpdateGuildSettingsFn: func(g string, change func(*storage.GuildSettings)) (storage.GuildSettings, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.m == nil {
				s.m = map[string]storage.GuildSettings{}
			}
			v := s.m[g]
			change(&v)
			s.m[g] = v
			return v, nil
		},
	}
}

// adminEvent is /songadmin <sub> in guild1 by admin1.
func adminEvent(sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) incoming {
	ev := songEvent(time.Now(), "admin1", "", false).Struct.(*discordgo.InteractionCreate).Interaction
	ev.Data = discordgo.ApplicationCommandInteractionData{Name: "songadmin", Options: []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: sub, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts},
	}}
	return incoming{Interaction: ev}
}

func intOpt(name string, v int) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionInteger, Value: float64(v)}
}

// lastReply is the content of the last ephemeral reply.
func lastReply(t *testing.T, d *fakeDiscord) string {
	t.Helper()
	rs := d.Responses()
	if len(rs) == 0 {
		t.Fatal("no response")
	}
	r := rs[len(rs)-1]
	if r.Data == nil || r.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("response %+v is not ephemeral", r)
	}
	return r.Data.Content
}

// adminAnswer is /songadmin's last answer: a private deferral, then the
// edit of the reply.
func adminAnswer(t *testing.T, d *fakeDiscord) string {
	t.Helper()
	rs, edits := d.Responses(), d.Edits()
	if len(rs) == 0 || len(edits) == 0 {
		t.Fatalf("%d responses and %d edits; want a deferral and an edit", len(rs), len(edits))
	}
	if r := rs[len(rs)-1]; r.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || r.Data == nil || r.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("response %+v is not a private deferral", r)
	}
	return edits[len(edits)-1].content
}

func TestSongAdminPauseResumeAndLimits(t *testing.T) {
	t.Parallel()
	d := &fakeDiscord{}
	settings := &memorySettings{}
	b := newTestBot(t, Options{Limits: storage.Limits{UserMaxActive: 2, UserCooldown: 15 * time.Second, MaxRunning: 20, MaxQueued: 200}},
		d, fakeStore{fakeSettings: settings.fake()}, fakeWhisul{})
	ctx := context.Background()

	b.handleSongAdmin(ctx, adminEvent("pause", &discordgo.ApplicationCommandInteractionDataOption{Name: "reason", Type: discordgo.ApplicationCommandOptionString, Value: "the talk starts"}))
	if got := adminAnswer(t, d); !strings.Contains(got, "Paused") || !strings.Contains(got, "the talk starts") {
		t.Errorf("pause reply = %q", got)
	}
	if s := settings.m["guild1"]; !s.Paused || s.PauseReason != "the talk starts" {
		t.Errorf("after pause, settings = %+v", s)
	}
	b.handleSongAdmin(ctx, adminEvent("resume"))
	if got := adminAnswer(t, d); !strings.Contains(got, "Resumed") {
		t.Errorf("resume reply = %q", got)
	}
	b.handleSongAdmin(ctx, adminEvent("resume"))
	if got := adminAnswer(t, d); !strings.Contains(got, "wasn't paused") {
		t.Errorf("second resume reply = %q", got)
	}

	b.handleSongAdmin(ctx, adminEvent("limits", intOpt("user_active", 0), intOpt("user_cooldown", 60), intOpt("guild_daily", 30)))
	got := adminAnswer(t, d)
	for _, want := range []string{"Limits changed", "on the way: no limit (set here)", "60 seconds (set here)", "per day: 30 (set here)", "20 songs made at once, 200 waiting, no limit per day"} {
		if !strings.Contains(got, want) {
			t.Errorf("limits reply = %q; want it to contain %q", got, want)
		}
	}
	o := settings.m["guild1"].Overrides
	if o.UserMaxActive == nil || *o.UserMaxActive != 0 || o.UserCooldown == nil || *o.UserCooldown != time.Minute || o.GuildDailyLimit == nil || *o.GuildDailyLimit != 30 || o.UserDailyLimit != nil {
		t.Errorf("overrides = %+v", o)
	}
	b.handleSongAdmin(ctx, adminEvent("limits"))
	if got := adminAnswer(t, d); !strings.Contains(got, "Limits in this server") || !strings.Contains(got, "60 seconds (set here)") {
		t.Errorf("limits shown = %q", got)
	}
	b.handleSongAdmin(ctx, adminEvent("limits", &discordgo.ApplicationCommandInteractionDataOption{Name: "reset", Type: discordgo.ApplicationCommandOptionBoolean, Value: true}))
	if got := adminAnswer(t, d); !strings.Contains(got, "Back to the bot's default") || strings.Contains(got, "set here") || !strings.Contains(got, "15 seconds") {
		t.Errorf("reset reply = %q", got)
	}
	if !settings.m["guild1"].Overrides.IsZero() {
		t.Errorf("after reset, overrides = %+v", settings.m["guild1"].Overrides)
	}
}

func TestSongAdminQueueAndShowcase(t *testing.T) {
	t.Parallel()
	var edits []*discordgo.WebhookEdit
	d := &fakeDiscord{EditReplyFn: func(_, _ string, e *discordgo.WebhookEdit) error { edits = append(edits, e); return nil }}
	settings := &memorySettings{}
	since := time.Unix(1_800_000_000, 0)
	running, queued := pendingJob(since, "u1", false), pendingJob(since, "u2", false)
	running.InteractionAt, queued.InteractionAt = since, since.Add(time.Minute)
	store := fakeStore{fakeSettings: settings.fake(), fakeRoster: fakeRoster{GuildJobsFn: func(g string) ([]storage.ActiveJob, error) {
		if g != "guild1" {
			return nil, nil
		}
		return []storage.ActiveJob{{Job: running}, {Job: queued, Queued: true, Position: 3}}, nil
	}}}
	b := newTestBot(t, Options{}, d, store, fakeWhisul{})
	ctx := context.Background()
	b.handleSongAdmin(ctx, adminEvent("queue"))
	got := adminAnswer(t, d)
	for _, want := range []string{"Being made for <@u1>, asked <t:1800000000:R>", "3rd in line: <@u2>, asked <t:1800000060:R>"} {
		if !strings.Contains(got, want) {
			t.Errorf("queue reply = %q; want it to contain %q", got, want)
		}
	}
	if edit := edits[0]; edit.AllowedMentions == nil || len(edit.AllowedMentions.Parse) > 0 || len(edit.AllowedMentions.Users) > 0 {
		t.Errorf("the queue reply may ping: %+v", edit.AllowedMentions)
	}

	b.handleSongAdmin(ctx, adminEvent("showcase", &discordgo.ApplicationCommandInteractionDataOption{Name: "channel", Type: discordgo.ApplicationCommandOptionChannel, Value: "chan9"}))
	if got := adminAnswer(t, d); !strings.Contains(got, "<#chan9>") || settings.m["guild1"].ShowcaseChannelID != "chan9" {
		t.Errorf("showcase reply = %q, settings %+v", got, settings.m["guild1"])
	}
	b.handleSongAdmin(ctx, adminEvent("showcase"))
	if got := adminAnswer(t, d); !strings.Contains(got, "no longer posted") || settings.m["guild1"].ShowcaseChannelID != "" {
		t.Errorf("showcase off reply = %q, settings %+v", got, settings.m["guild1"])
	}
}
