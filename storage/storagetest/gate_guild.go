package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
)

// GuildStore is a store with the gate, the servers' settings and the
// roster: what the bot's /songadmin and queue views use.
type GuildStore interface {
	GateStore
	storage.Settings
	storage.Roster
}

// Backend opens handles on one backend. Each call returns another handle
// on the same data, as another process would see it (Redis: a client of
// its own) or the same process after a restart (Bolt: the handle before
// is closed and the file opened again), so a test uses only the newest
// handle of a backend unless it runs on Redis. The test closes them.
type Backend func(t *testing.T) GuildStore

// RunGuild runs the contract suite of storage.Settings and storage.Roster,
// and of the limits that depend on them, as parallel subtests. newBackend
// returns an empty backend of the implementation under test for each
// subtest. Every time is passed in, so nothing sleeps.
func RunGuild(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Backend)
	}{
		{"SettingsRoundTrip", testSettingsRoundTrip},
		{"SettingsConcurrent", testSettingsConcurrent},
		{"SettingsInvalid", testSettingsInvalid},
		{"Pause", testPause},
		{"DailyCapsAcrossHandles", testDailyCapsAcrossHandles},
		{"DailyRetryAt", testDailyRetryAt},
		{"Cancel", testCancel},
		{"CancelFreesDailyCounts", testCancelFreesDailyCounts},
		{"CancelOutcomes", testCancelOutcomes},
		{"CancelPromoteRace", func(t *testing.T, open Backend) { CancelPromoteRace(t, []GuildStore{open(t)}, 40) }},
		{"ActiveJobs", testActiveJobs},
		{"Usage", testUsage},
		{"Queue", testQueue},
		{"ClaimPositionEdit", testClaimPositionEdit},
		{"ClaimPositionEditConcurrent", func(t *testing.T, open Backend) { PositionEditRace(t, []GuildStore{open(t)}, 8) }},
		{"RosterCancelled", testRosterCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newBackend(t))
		})
	}
	t.Run("Overrides", func(t *testing.T) {
		t.Parallel()
		testOverrides(t, newBackend)
	})
	t.Run("RefusalOrder", func(t *testing.T) {
		t.Parallel()
		testRefusalOrder(t, newBackend)
	})
}

func ptr[T any](v T) *T { return &v }

func mustUpdate(t *testing.T, s storage.Settings, guildID string, change func(*storage.GuildSettings)) storage.GuildSettings {
	t.Helper()
	gs, err := s.UpdateGuildSettings(t.Context(), guildID, change)
	if err != nil {
		t.Fatalf("UpdateGuildSettings(%q) = %v", guildID, err)
	}
	return gs
}

func mustSettings(t *testing.T, s storage.Settings, guildID string) storage.GuildSettings {
	t.Helper()
	gs, err := s.GuildSettings(t.Context(), guildID)
	if err != nil {
		t.Fatalf("GuildSettings(%q) = %v", guildID, err)
	}
	return gs
}

func mustUsage(t *testing.T, s storage.Roster, now time.Time, user, guild string) storage.Usage {
	t.Helper()
	u, err := s.Usage(t.Context(), now, user, guild)
	if err != nil {
		t.Fatalf("Usage(base+%v, %q, %q) = %v", now.Sub(base), user, guild, err)
	}
	return u
}

func testSettingsRoundTrip(t *testing.T, open Backend) {
	s := open(t)
	if got := mustSettings(t, s, "g1"); !cmp.Equal(got, storage.GuildSettings{}) {
		t.Errorf("GuildSettings of a guild nobody configured = %+v; want the zero value", got)
	}
	want := storage.GuildSettings{
		Paused:            true,
		PauseReason:       "maintenance: back at 18:00 ✨",
		ShowcaseChannelID: "chan-1",
		Overrides: storage.Overrides{
			UserMaxActive:   ptr(0), // off in this server: a value, not unset
			UserCooldown:    ptr(90 * time.Second),
			UserDailyLimit:  ptr(7),
			GuildDailyLimit: ptr(0),
		},
	}
	got := mustUpdate(t, s, "g1", func(gs *storage.GuildSettings) { *gs = want })
	if !cmp.Equal(got, want) {
		t.Errorf("UpdateGuildSettings returned (-got +want)\n%s", cmp.Diff(got, want))
	}
	*got.Overrides.UserDailyLimit = 99 // the caller's copy
	if got := mustSettings(t, s, "g1"); !cmp.Equal(got, want) {
		t.Errorf("GuildSettings after the update: (-got +want)\n%s", cmp.Diff(got, want))
	}
	if got := mustSettings(t, s, "g2"); !cmp.Equal(got, storage.GuildSettings{}) {
		t.Errorf("GuildSettings(g2) = %+v; want the zero value: settings are per guild", got)
	}

	// Read-modify-write: the change sees what is stored.
	got = mustUpdate(t, s, "g1", func(gs *storage.GuildSettings) {
		if !gs.Paused || gs.Overrides.UserDailyLimit == nil || *gs.Overrides.UserDailyLimit != 7 {
			t.Errorf("UpdateGuildSettings gave change %+v; want the stored settings", gs)
		}
		gs.Paused, gs.PauseReason = false, ""
		gs.Overrides.UserDailyLimit = nil
		gs.Overrides.GuildMaxActive = ptr(-3) // stored as 0: off either way
	})
	want.Paused, want.PauseReason = false, ""
	want.Overrides.UserDailyLimit = nil
	want.Overrides.GuildMaxActive = ptr(0)
	if !cmp.Equal(got, want) {
		t.Errorf("second UpdateGuildSettings returned (-got +want)\n%s", cmp.Diff(got, want))
	}

	again := open(t) // another process, or after a restart
	if got := mustSettings(t, again, "g1"); !cmp.Equal(got, want) {
		t.Errorf("GuildSettings through another handle: (-got +want)\n%s", cmp.Diff(got, want))
	}
	if got := mustUpdate(t, again, "g1", func(gs *storage.GuildSettings) { *gs = storage.GuildSettings{} }); !cmp.Equal(got, storage.GuildSettings{}) {
		t.Errorf("UpdateGuildSettings to nothing = %+v; want the zero value", got)
	}
	if got := mustSettings(t, again, "g1"); !cmp.Equal(got, storage.GuildSettings{}) {
		t.Errorf("GuildSettings after clearing = %+v; want the zero value", got)
	}
}

// testSettingsConcurrent: admins changing different settings at once all land.
func testSettingsConcurrent(t *testing.T, open Backend) {
	s := open(t)
	changes := []func(*storage.GuildSettings){
		func(gs *storage.GuildSettings) { gs.Paused = true },
		func(gs *storage.GuildSettings) { gs.ShowcaseChannelID = "chan" },
		func(gs *storage.GuildSettings) { gs.Overrides.UserMaxActive = ptr(1) },
		func(gs *storage.GuildSettings) { gs.Overrides.UserCooldown = ptr(time.Minute) },
		func(gs *storage.GuildSettings) { gs.Overrides.UserDailyLimit = ptr(2) },
		func(gs *storage.GuildSettings) { gs.Overrides.GuildMaxActive = ptr(3) },
		func(gs *storage.GuildSettings) { gs.Overrides.GuildDailyLimit = ptr(4) },
	}
	var wg sync.WaitGroup
	for _, change := range changes {
		wg.Go(func() {
			if _, err := s.UpdateGuildSettings(t.Context(), "g1", change); err != nil {
				t.Errorf("UpdateGuildSettings = %v", err)
			}
		})
	}
	wg.Wait()
	want := storage.GuildSettings{Paused: true, ShowcaseChannelID: "chan", Overrides: storage.Overrides{
		UserMaxActive: ptr(1), UserCooldown: ptr(time.Minute), UserDailyLimit: ptr(2),
		GuildMaxActive: ptr(3), GuildDailyLimit: ptr(4),
	}}
	if got := mustSettings(t, s, "g1"); !cmp.Equal(got, want) {
		t.Errorf("GuildSettings after %d concurrent updates: (-got +want)\n%s", len(changes), cmp.Diff(got, want))
	}
}

func testSettingsInvalid(t *testing.T, open Backend) {
	s := open(t)
	if _, err := s.GuildSettings(t.Context(), ""); err == nil {
		t.Errorf("GuildSettings(\"\") = nil error; want one: settings exist for guilds only")
	}
	if _, err := s.UpdateGuildSettings(t.Context(), "", func(gs *storage.GuildSettings) { gs.Paused = true }); err == nil {
		t.Errorf("UpdateGuildSettings(\"\") = nil error; want one")
	}
}

// testPause: a paused guild refuses with the reason and stores and counts
// nothing; other guilds and DMs go on; resuming admits again.
func testPause(t *testing.T, open Backend) {
	s := open(t)
	l := storage.Limits{MaxRunning: 1, UserCooldown: time.Hour, UserDailyLimit: 1, DailyLimit: 10}
	mustUpdate(t, s, "g1", func(gs *storage.GuildSettings) { gs.Paused, gs.PauseReason = true, "exams week" })
	want := storage.Admission{Refused: storage.RefusedPaused, PauseReason: "exams week", Limits: l}
	if got := mustAdmitFull(t, s, base, gateJob("a", "u1", "g1"), l); got != want {
		t.Errorf("Admit in a paused guild = %+v; want %+v", got, want)
	}
	if _, err := s.Get(t.Context(), "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(a) after a paused refusal = %v; want ErrNotFound", err)
	}
	mustCounts(t, s, 0, 0)
	if got := mustUsage(t, s, base, "u1", "g1"); got != (storage.Usage{}) {
		t.Errorf("Usage after a paused refusal = %+v; want nothing counted", got)
	}
	if got := mustAdmit(t, s, base, gateJob("b", "u2", "g2"), l); got != runs() {
		t.Errorf("Admit in another guild = %+v; want running", got)
	}
	if got := mustAdmit(t, s, base, gateJob("c", "u3", ""), l); got != queuedAt(1) {
		t.Errorf("Admit in a DM = %+v; want queued at 1", got)
	}

	again := open(t)
	mustUpdate(t, again, "g1", func(gs *storage.GuildSettings) { gs.Paused, gs.PauseReason = false, "" })
	// The same id again: the refusal remembered nothing, not even a cooldown.
	if got := mustAdmit(t, again, base.Add(time.Second), gateJob("a", "u1", "g1"), l); got != queuedAt(2) {
		t.Errorf("Admit after resuming = %+v; want queued at 2", got)
	}
}

// overrideCase is one table test of a server's override at its boundary.
type overrideCase struct {
	name   string
	limits storage.Limits
	ov     storage.Overrides
	steps  []step // in guild "g1" unless a step says otherwise
	finish bool   // finish each admitted job at once, so only the limit under test counts
}

func testOverrides(t *testing.T, newBackend func(t *testing.T) Backend) {
	const sec, hour = time.Second, time.Hour
	tests := []overrideCase{
		{"user active tighter", storage.Limits{UserMaxActive: 5}, storage.Overrides{UserMaxActive: ptr(2)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", 0, runs()},
			{"c", "u1", "g1", 0, refusedBy(storage.RefusedUserActive, time.Time{})},
			{"d", "u1", "g2", 0, runs()}, // the operator's 5 elsewhere
		}, false},
		{"user active looser", storage.Limits{UserMaxActive: 1}, storage.Overrides{UserMaxActive: ptr(3)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", 0, runs()},
			{"c", "u1", "g1", 0, runs()},
			{"d", "u1", "g1", 0, refusedBy(storage.RefusedUserActive, time.Time{})},
		}, false},
		{"user active off", storage.Limits{UserMaxActive: 1}, storage.Overrides{UserMaxActive: ptr(0)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", 0, runs()},
			{"c", "u1", "g1", 0, runs()},
		}, false},
		{"cooldown set", storage.Limits{}, storage.Overrides{UserCooldown: ptr(10 * sec)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", 10*sec - time.Millisecond, refusedBy(storage.RefusedCooldown, base.Add(10*sec))},
			{"c", "u1", "g1", 10 * sec, runs()},
		}, true},
		{"cooldown off", storage.Limits{UserCooldown: hour}, storage.Overrides{UserCooldown: ptr(time.Duration(0))}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", sec, runs()},
		}, true},
		{"user daily looser", storage.Limits{UserDailyLimit: 1}, storage.Overrides{UserDailyLimit: ptr(3)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", sec, runs()},
			{"c", "u1", "g1", 2 * sec, runs()},
			{"d", "u1", "g1", 3 * sec, refusedBy(storage.RefusedDaily, midnight)},
		}, true},
		{"user daily off", storage.Limits{UserDailyLimit: 1}, storage.Overrides{UserDailyLimit: ptr(0)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", sec, runs()},
			{"c", "u1", "g1", 2 * sec, runs()},
		}, true},
		{"guild active looser", storage.Limits{GuildMaxActive: 1}, storage.Overrides{GuildMaxActive: ptr(2)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u2", "g1", 0, runs()},
			{"c", "u3", "g1", 0, refusedBy(storage.RefusedGuildActive, time.Time{})},
			{"d", "u4", "g2", 0, runs()},
			{"e", "u5", "g2", 0, refusedBy(storage.RefusedGuildActive, time.Time{})},
		}, false},
		{"guild active off", storage.Limits{GuildMaxActive: 1}, storage.Overrides{GuildMaxActive: ptr(0)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u2", "g1", 0, runs()},
		}, false},
		{"guild daily set", storage.Limits{}, storage.Overrides{GuildDailyLimit: ptr(2)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u2", "g1", 0, runs()},
			{"c", "u3", "g1", 0, refusedBy(storage.RefusedGuildDaily, midnight)},
			{"d", "u3", "g2", 0, runs()},
			{"e", "u4", "", 0, runs()},
		}, true},
		{"guild daily looser", storage.Limits{GuildDailyLimit: 1}, storage.Overrides{GuildDailyLimit: ptr(3)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u2", "g1", 0, runs()},
			{"c", "u3", "g1", 0, runs()},
			{"d", "u4", "g1", 0, refusedBy(storage.RefusedGuildDaily, midnight)},
			{"e", "u1", "g2", 0, runs()},
			{"f", "u2", "g2", 0, refusedBy(storage.RefusedGuildDaily, midnight)},
		}, true},
		{"guild daily off", storage.Limits{GuildDailyLimit: 1}, storage.Overrides{GuildDailyLimit: ptr(0)}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u2", "g1", 0, runs()},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newBackend(t)(t)
			mustUpdate(t, s, "g1", func(gs *storage.GuildSettings) { gs.Overrides = tt.ov })
			for _, st := range tt.steps {
				now := base.Add(st.at)
				got := mustAdmitFull(t, s, now, gateJob(st.id, st.user, st.guild), tt.limits)
				want := st.want
				want.Limits = tt.limits
				if st.guild == "g1" {
					want.Limits = tt.ov.Apply(tt.limits)
				}
				if got != want {
					t.Errorf("Admit(base+%v, %s of %s in %q) = %+v; want %+v", st.at, st.id, st.user, st.guild, got, want)
				}
				if tt.finish && got.Refused == "" {
					mustFinish(t, s, st.id, true)
				}
			}
		})
	}
}

// testDailyCapsAcrossHandles: the bot's and a guild's daily caps count
// every handle's admissions, DMs counting for the bot only.
func testDailyCapsAcrossHandles(t *testing.T, open Backend) {
	l := storage.Limits{GuildDailyLimit: 2, DailyLimit: 4}
	s := open(t)
	for _, st := range []step{
		{"a", "u1", "g1", 0, runs()},
		{"b", "u2", "", 0, runs()},
		{"c", "u3", "g1", 0, runs()},
	} {
		if got := mustAdmit(t, s, base.Add(st.at), gateJob(st.id, st.user, st.guild), l); got != st.want {
			t.Errorf("Admit(%s in %q) = %+v; want %+v", st.id, st.guild, got, st.want)
		}
		mustFinish(t, s, st.id, true) // the caps count admissions, not active jobs
	}
	s = open(t)
	for _, st := range []step{
		{"d", "u4", "g1", 0, refusedBy(storage.RefusedGuildDaily, midnight)},
		{"e", "u4", "", 0, runs()},
		{"f", "u5", "g2", 0, refusedBy(storage.RefusedBotDaily, midnight)},
		{"g", "u6", "", 0, refusedBy(storage.RefusedBotDaily, midnight)},
		{"h", "u4", "g1", 12 * time.Hour, runs()}, // the next UTC day
	} {
		if got := mustAdmit(t, s, base.Add(st.at), gateJob(st.id, st.user, st.guild), l); got != st.want {
			t.Errorf("Admit(%s in %q) through another handle = %+v; want %+v", st.id, st.guild, got, st.want)
		}
	}
}

// testDailyRetryAt: a daily refusal frees at the next UTC midnight, not a
// millisecond before.
func testDailyRetryAt(t *testing.T, open Backend) {
	s := open(t)
	l := storage.Limits{GuildDailyLimit: 1, DailyLimit: 2}
	lastMs := midnight.Add(-time.Millisecond)
	for _, st := range []struct {
		id, user, guild string
		at              time.Time
		want            storage.Admission
	}{
		{"a", "u1", "g1", base, runs()},
		{"b", "u2", "g1", lastMs, refusedBy(storage.RefusedGuildDaily, midnight)},
		{"c", "u2", "g2", base, runs()},
		{"d", "u3", "g3", lastMs, refusedBy(storage.RefusedBotDaily, midnight)},
		{"e", "u2", "g1", midnight, runs()},
		{"f", "u3", "g3", midnight, runs()},
		{"g", "u4", "g4", midnight, refusedBy(storage.RefusedBotDaily, midnight.Add(24*time.Hour))},
	} {
		if got := mustAdmit(t, s, st.at, gateJob(st.id, st.user, st.guild), l); got != st.want {
			t.Errorf("Admit(%v, %s in %s) = %+v; want %+v", st.at, st.id, st.guild, got, st.want)
		}
	}
}

// testRefusalOrder: where two limits refuse, the earlier in the
// documented order names the refusal.
func testRefusalOrder(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name   string
		limits storage.Limits
		paused bool
		setup  []step
		last   step
	}{
		{"paused before user active", storage.Limits{UserMaxActive: 1}, true,
			[]step{{"a", "u1", "g2", 0, runs()}},
			step{"b", "u1", "g1", 0, storage.Admission{Refused: storage.RefusedPaused, PauseReason: "why"}}},
		{"user daily before guild daily", storage.Limits{UserDailyLimit: 1, GuildDailyLimit: 1}, false,
			[]step{{"a", "u1", "g1", 0, runs()}},
			step{"b", "u1", "g1", time.Second, refusedBy(storage.RefusedDaily, midnight)}},
		{"guild active before guild daily", storage.Limits{GuildMaxActive: 1, GuildDailyLimit: 1}, false,
			[]step{{"a", "u1", "g1", 0, runs()}},
			step{"b", "u2", "g1", 0, refusedBy(storage.RefusedGuildActive, time.Time{})}},
		{"guild daily before bot daily", storage.Limits{GuildDailyLimit: 1, DailyLimit: 1}, false,
			[]step{{"a", "u1", "g1", 0, runs()}},
			step{"b", "u2", "g1", 0, refusedBy(storage.RefusedGuildDaily, midnight)}},
		{"bot daily before queue full", storage.Limits{MaxRunning: 1, MaxQueued: 1, DailyLimit: 2}, false,
			[]step{{"a", "u1", "g1", 0, runs()}, {"b", "u2", "g2", 0, queuedAt(1)}},
			step{"c", "u3", "g3", 0, refusedBy(storage.RefusedBotDaily, midnight)}},
	}
	for _, tt := range tests {
		s := newBackend(t)(t)
		prefix := tt.name + ": "
		for _, st := range tt.setup {
			st.id = prefix + st.id
			if got := mustAdmit(t, s, base.Add(st.at), gateJob(st.id, prefix+st.user, prefix+st.guild), tt.limits); got != st.want {
				t.Fatalf("%sAdmit(%s) = %+v; want %+v", prefix, st.id, got, st.want)
			}
		}
		if tt.paused {
			mustUpdate(t, s, prefix+"g1", func(gs *storage.GuildSettings) { gs.Paused, gs.PauseReason = true, "why" })
		}
		st := tt.last
		got := mustAdmit(t, s, base.Add(st.at), gateJob(prefix+st.id, prefix+st.user, prefix+st.guild), tt.limits)
		if got != st.want {
			t.Errorf("%sAdmit(%s) = %+v; want %+v", prefix, st.id, got, st.want)
		}
	}
}

func testRosterCancelled(t *testing.T, open Backend) {
	s := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := []struct {
		op   string
		call func() error
	}{
		{"guild settings", func() error { _, err := s.GuildSettings(ctx, "g1"); return err }},
		{"update guild settings", func() error {
			_, err := s.UpdateGuildSettings(ctx, "g1", func(*storage.GuildSettings) {})
			return err
		}},
		{"cancel", func() error { _, err := s.Cancel(ctx, base, "a"); return err }},
		{"guild jobs", func() error { _, err := s.GuildJobs(ctx, "g1"); return err }},
		{"user jobs", func() error { _, err := s.UserJobs(ctx, "u1"); return err }},
		{"usage", func() error { _, err := s.Usage(ctx, base, "u1", "g1"); return err }},
		{"queue", func() error { _, err := s.Queue(ctx, 0); return err }},
		{"claim position edit", func() error { _, err := s.ClaimPositionEdit(ctx, base, "a", 1, 0); return err }},
	}
	for _, c := range calls {
		err := c.call()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v; want context.Canceled", c.op, err)
			continue
		}
		if want := "storage: " + c.op + ": "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s error %q does not start with %q", c.op, err, want)
		}
	}
}

// jobName is how the race helpers name their jobs.
func jobName(round, i int) string { return fmt.Sprintf("r%03d-%d", round, i) }
