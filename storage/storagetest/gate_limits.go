package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
)

// step is one Admit of a limits table test.
type step struct {
	id, user, guild string
	at              time.Duration // after base
	want            storage.Admission
}

func runs() storage.Admission            { return storage.Admission{} }
func queuedAt(pos int) storage.Admission { return storage.Admission{Queued: true, Position: pos} }
func refusedBy(r storage.Refusal, retryAt time.Time) storage.Admission {
	return storage.Admission{Refused: r, RetryAt: retryAt}
}

// midnight is the end of base's UTC day, when a daily limit frees.
var midnight = time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)

func testLimits(t *testing.T, newStore func(t *testing.T) GateStore) {
	const sec, minute, hour = time.Second, time.Minute, time.Hour
	tests := []struct {
		name   string
		limits storage.Limits
		steps  []step
	}{
		{"all off", storage.Limits{}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", 0, runs()},
			{"c", "u1", "g1", 0, runs()},
		}},
		{"negative is off", storage.Limits{MaxRunning: -1, UserMaxActive: -1, UserCooldown: -sec}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", 0, runs()},
		}},
		{"max running queues the rest", storage.Limits{MaxRunning: 2}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u2", "g1", 0, runs()},
			{"c", "u3", "g1", 0, queuedAt(1)},
			{"d", "u4", "g1", 0, queuedAt(2)},
		}},
		{"max queued", storage.Limits{MaxRunning: 1, MaxQueued: 2}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u2", "g1", 0, queuedAt(1)},
			{"c", "u3", "g1", 0, queuedAt(2)},
			{"d", "u4", "g1", 0, refusedBy(storage.RefusedQueueFull, time.Time{})},
		}},
		{"user max active", storage.Limits{UserMaxActive: 2}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", 0, runs()},
			{"c", "u1", "g1", 0, refusedBy(storage.RefusedUserActive, time.Time{})},
			{"d", "u2", "g1", 0, runs()},
		}},
		{"user max active counts queued jobs", storage.Limits{MaxRunning: 1, UserMaxActive: 2}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", 0, queuedAt(1)},
			{"c", "u1", "g1", 0, refusedBy(storage.RefusedUserActive, time.Time{})},
			{"d", "u2", "g1", 0, queuedAt(2)},
		}},
		{"cooldown", storage.Limits{UserCooldown: 15 * sec}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", 15*sec - time.Millisecond, refusedBy(storage.RefusedCooldown, base.Add(15*sec))},
			{"c", "u2", "g1", sec, runs()},
			{"d", "u1", "g1", 15 * sec, runs()},
			{"e", "u1", "g1", 20 * sec, refusedBy(storage.RefusedCooldown, base.Add(30*sec))},
		}},
		{"daily limit resets at UTC midnight", storage.Limits{UserDailyLimit: 2}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", hour, runs()},
			{"c", "u1", "g1", 12*hour - time.Millisecond, refusedBy(storage.RefusedDaily, midnight)},
			{"d", "u2", "g1", 2 * hour, runs()},
			{"e", "u1", "g1", 12 * hour, runs()},
			{"f", "u1", "g1", 13 * hour, runs()},
			{"g", "u1", "g1", 14 * hour, refusedBy(storage.RefusedDaily, midnight.Add(24*hour))},
		}},
		{"guild max active ignores DMs", storage.Limits{GuildMaxActive: 2}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u2", "g1", 0, runs()},
			{"c", "u3", "g1", 0, refusedBy(storage.RefusedGuildActive, time.Time{})},
			{"d", "u4", "g2", 0, runs()},
			{"e", "u5", "", 0, runs()},
			{"f", "u6", "", 0, runs()},
			{"g", "u7", "", 0, runs()},
		}},
		{"user active before cooldown", storage.Limits{UserMaxActive: 1, UserCooldown: hour}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", sec, refusedBy(storage.RefusedUserActive, time.Time{})},
		}},
		{"cooldown before daily limit", storage.Limits{UserCooldown: hour, UserDailyLimit: 1}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", sec, refusedBy(storage.RefusedCooldown, base.Add(hour))},
			{"c", "u1", "g1", hour, refusedBy(storage.RefusedDaily, midnight)},
		}},
		{"daily limit before guild", storage.Limits{UserDailyLimit: 1, GuildMaxActive: 1}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u1", "g1", minute, refusedBy(storage.RefusedDaily, midnight)},
			{"c", "u2", "g1", minute, refusedBy(storage.RefusedGuildActive, time.Time{})},
		}},
		{"guild before queue full", storage.Limits{MaxRunning: 1, MaxQueued: 1, GuildMaxActive: 2}, []step{
			{"a", "u1", "g1", 0, runs()},
			{"b", "u2", "g1", 0, queuedAt(1)},
			{"c", "u3", "g1", 0, refusedBy(storage.RefusedGuildActive, time.Time{})},
			{"d", "u4", "g2", 0, refusedBy(storage.RefusedQueueFull, time.Time{})},
		}},
	}
	for _, tt := range tests {
		s := openGate(t, newStore)
		for _, st := range tt.steps {
			now := base.Add(st.at)
			r0, q0, _ := s.Counts(t.Context())
			got := mustAdmit(t, s, now, gateJob(st.id, st.user, st.guild), tt.limits)
			if !cmp.Equal(got, st.want) {
				t.Errorf("%s: Admit(base+%v, %s of %s in %q) = %+v; want %+v",
					tt.name, st.at, st.id, st.user, st.guild, got, st.want)
			}
			r, q, err := s.Counts(t.Context())
			if err != nil {
				t.Fatalf("Counts() = %v", err)
			}
			switch {
			case got.Refused != "":
				if _, err := s.Get(t.Context(), st.id); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s: Get(%q) after a refusal = %v; want ErrNotFound", tt.name, st.id, err)
				}
				if r != r0 || q != q0 {
					t.Errorf("%s: Counts() went from %d, %d to %d, %d on a refusal", tt.name, r0, q0, r, q)
				}
			case got.Queued:
				if q != q0+1 || r != r0 {
					t.Errorf("%s: Counts() went from %d, %d to %d, %d on queueing", tt.name, r0, q0, r, q)
				}
			default:
				if r != r0+1 || q != q0 {
					t.Errorf("%s: Counts() went from %d, %d to %d, %d on running", tt.name, r0, q0, r, q)
				}
			}
		}
	}
}
