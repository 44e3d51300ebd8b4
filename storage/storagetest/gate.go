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

	"songbot/storage"
)

// GateStore is a store that also applies the fair-use limits.
type GateStore interface {
	storage.Store
	storage.Gate
}

// RunGate runs the contract suite of storage.Gate as parallel subtests.
// newStore returns an empty store of the implementation under test for each
// subtest; the subtest closes it if newStore did not arrange that. Every
// time is passed in, so nothing sleeps.
func RunGate(t *testing.T, newStore func(t *testing.T) GateStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s GateStore)
	}{
		{"AdmitStores", testAdmitStores},
		{"AdmitInvalid", testAdmitInvalid},
		{"AdmitAgain", testAdmitAgain},
		{"QueueFIFO", testQueueFIFO},
		{"PromoteFillsFreeSlots", testPromoteFillsFreeSlots},
		{"PromoteUnlimited", testPromoteUnlimited},
		{"NoOvertaking", testNoOvertaking},
		{"FinishReleasesRunning", testFinishReleasesRunning},
		{"FinishReleasesQueued", testFinishReleasesQueued},
		{"BurstReleases", testBurstReleases},
		{"SaveCountsAsRunning", testSaveCountsAsRunning},
		{"RescheduleQueued", testRescheduleQueued},
		{"GateCancelled", testGateCancelled},
		{"AdmitConcurrent", func(t *testing.T, s GateStore) { AdmitRace(t, []GateStore{s}, 8) }},
		{"PromoteConcurrent", func(t *testing.T, s GateStore) { PromoteRace(t, []GateStore{s}, 60, 6) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, openGate(t, newStore))
		})
	}
	t.Run("Limits", func(t *testing.T) {
		t.Parallel()
		testLimits(t, newStore)
	})
}

func openGate(t *testing.T, newStore func(t *testing.T) GateStore) GateStore {
	t.Helper()
	s := newStore(t)
	t.Cleanup(func() { s.Close() })
	return s
}

// gateJob is a job of user in guild ("" for a DM), due at base.
func gateJob(id, user, guild string) storage.Job {
	j := newJob(id, base)
	j.UserID, j.GuildID = user, guild
	j.WhisulID, j.PollURL = "", "" // not submitted yet
	return j
}

func mustAdmit(t *testing.T, s storage.Gate, now time.Time, job storage.Job, l storage.Limits) storage.Admission {
	t.Helper()
	adm, err := s.Admit(t.Context(), now, job, l)
	if err != nil {
		t.Fatalf("Admit(base+%v, %q) = %v", now.Sub(base), job.ID, err)
	}
	return adm
}

func mustPromote(t *testing.T, s storage.Gate, now time.Time, l storage.Limits) []string {
	t.Helper()
	ids, err := s.Promote(t.Context(), now, l)
	if err != nil {
		t.Fatalf("Promote(base+%v) = %v", now.Sub(base), err)
	}
	return ids
}

func mustFinish(t *testing.T, s storage.Store, id string, want bool) {
	t.Helper()
	if ok, err := s.Finish(t.Context(), id); ok != want || err != nil {
		t.Fatalf("Finish(%q) = %v, %v; want %v, nil", id, ok, err, want)
	}
}

func mustCounts(t *testing.T, s storage.Gate, running, queued int) {
	t.Helper()
	r, q, err := s.Counts(t.Context())
	if err != nil || r != running || q != queued {
		t.Fatalf("Counts() = %d, %d, %v; want %d running, %d queued", r, q, err, running, queued)
	}
}

func mustPositions(t *testing.T, s storage.Gate, want map[string]int) {
	t.Helper()
	for id, w := range want {
		if got, err := s.QueuePosition(t.Context(), id); got != w || err != nil {
			t.Errorf("QueuePosition(%q) = %d, %v; want %d", id, got, err, w)
		}
	}
}

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

func testAdmitStores(t *testing.T, s GateStore) {
	want := gateJob("a", "u1", "g1")
	want.NextPollAt = base.Add(30 * time.Second)
	if got := mustAdmit(t, s, base, want, storage.Limits{MaxRunning: 1}); got != runs() {
		t.Fatalf("Admit into a free slot = %+v; want running", got)
	}
	if got := mustGet(t, s, "a"); !cmp.Equal(got, want) {
		t.Errorf("Get after Admit: (-got +want)\n%s", cmp.Diff(got, want))
	}
	mustCounts(t, s, 1, 0)
	mustCount(t, s, 1)
	if got := mustClaim(t, s, want.NextPollAt.Add(-time.Millisecond), time.Minute, 10); len(got) != 0 {
		t.Errorf("Claim before the admitted job is due = %v; want nothing", ids(got))
	}
	if got := ids(mustClaim(t, s, want.NextPollAt, time.Minute, 10)); !cmp.Equal(got, []string{"a"}) {
		t.Errorf("Claim when the admitted job is due = %v; want [a]", got)
	}

	q := gateJob("q", "u2", "g1")
	if got := mustAdmit(t, s, base, q, storage.Limits{MaxRunning: 1}); got != queuedAt(1) {
		t.Fatalf("Admit with every slot taken = %+v; want queued at 1", got)
	}
	if got := mustGet(t, s, "q"); !cmp.Equal(got, q) {
		t.Errorf("Get of a queued job: (-got +want)\n%s", cmp.Diff(got, q))
	}
	mustCount(t, s, 2) // a queued job is pending too
	if got := mustClaim(t, s, base.Add(time.Hour), time.Minute, 10); !cmp.Equal(ids(got), []string{"a"}) {
		t.Errorf("Claim = %v; want only the running job, never a queued one", ids(got))
	}
}

func testAdmitInvalid(t *testing.T, s GateStore) {
	for _, job := range []storage.Job{gateJob("", "u1", "g1"), gateJob("a", "", "g1")} {
		if _, err := s.Admit(t.Context(), base, job, storage.Limits{}); err == nil {
			t.Errorf("Admit(id %q, user %q) = nil error; want one", job.ID, job.UserID)
		}
	}
	mustCount(t, s, 0)
	mustCounts(t, s, 0, 0)
}

// testAdmitAgain checks that a retried Admit returns the first verdict and
// counts nothing twice.
func testAdmitAgain(t *testing.T, s GateStore) {
	l := storage.Limits{MaxRunning: 1, UserMaxActive: 1, UserCooldown: time.Hour, UserDailyLimit: 1}
	for _, st := range []struct {
		job  storage.Job
		want storage.Admission
	}{
		{gateJob("a", "u1", "g1"), runs()},
		{gateJob("b", "u2", "g1"), queuedAt(1)},
	} {
		for try := range 2 {
			if got := mustAdmit(t, s, base.Add(time.Duration(try)*time.Second), st.job, l); got != st.want {
				t.Errorf("Admit(%q) try %d = %+v; want %+v", st.job.ID, try+1, got, st.want)
			}
		}
	}
	mustCounts(t, s, 1, 1)
}

func testQueueFIFO(t *testing.T, s GateStore) {
	l := storage.Limits{MaxRunning: 1}
	mustAdmit(t, s, base, gateJob("a", "u1", "g1"), l)
	for i, id := range []string{"b", "c", "d"} {
		if got := mustAdmit(t, s, base.Add(time.Second), gateJob(id, "u-"+id, "g1"), l); got != queuedAt(i+1) {
			t.Errorf("Admit(%q) = %+v; want queued at %d", id, got, i+1)
		}
	}
	mustPositions(t, s, map[string]int{"a": 0, "b": 1, "c": 2, "d": 3, "nope": 0})
	mustCounts(t, s, 1, 3)
	if got := mustPromote(t, s, base.Add(time.Minute), l); len(got) != 0 {
		t.Errorf("Promote with no free slot = %v; want nothing", got)
	}

	mustFinish(t, s, "a", true)
	now := base.Add(2 * time.Minute)
	if got := mustPromote(t, s, now, l); !cmp.Equal(got, []string{"b"}) {
		t.Errorf("Promote after a finished = %v; want [b]", got)
	}
	mustPositions(t, s, map[string]int{"b": 0, "c": 1, "d": 2})
	mustCounts(t, s, 1, 2)
	if got := mustGet(t, s, "b"); !got.NextPollAt.Equal(now) {
		t.Errorf("promoted job is due at base+%v; want base+%v", got.NextPollAt.Sub(base), now.Sub(base))
	}
	if got := ids(mustClaim(t, s, now, time.Minute, 10)); !cmp.Equal(got, []string{"b"}) {
		t.Errorf("Claim at the promotion = %v; want [b]", got)
	}
}

func testPromoteFillsFreeSlots(t *testing.T, s GateStore) {
	l := storage.Limits{MaxRunning: 3}
	for i := range 8 {
		mustAdmit(t, s, base, gateJob(fmt.Sprint(i), fmt.Sprint("u", i), "g1"), l)
	}
	mustCounts(t, s, 3, 5)
	mustFinish(t, s, "0", true)
	mustFinish(t, s, "2", true)
	if got := mustPromote(t, s, base.Add(time.Second), l); !cmp.Equal(got, []string{"3", "4"}) {
		t.Errorf("Promote with two free slots = %v; want [3 4]", got)
	}
	mustCounts(t, s, 3, 3)
	mustPositions(t, s, map[string]int{"3": 0, "4": 0, "5": 1, "6": 2, "7": 3})
	mustFinish(t, s, "3", true)
	if got := mustPromote(t, s, base.Add(2*time.Second), l); !cmp.Equal(got, []string{"5"}) {
		t.Errorf("Promote with one free slot = %v; want [5]", got)
	}
	if got := mustPromote(t, s, base.Add(3*time.Second), l); len(got) != 0 {
		t.Errorf("Promote again = %v; want nothing", got)
	}
	mustCounts(t, s, 3, 2)
	got := ids(mustClaim(t, s, base.Add(time.Hour), time.Minute, 10))
	if want := []string{"1", "4", "5"}; !cmp.Equal(got, want) {
		t.Errorf("Claim = %v; want %v, the promoted ones in order", got, want)
	}
}

func testPromoteUnlimited(t *testing.T, s GateStore) {
	if got := mustPromote(t, s, base, storage.Limits{}); len(got) != 0 {
		t.Errorf("Promote of an empty queue = %v", got)
	}
	l := storage.Limits{MaxRunning: 1}
	for _, id := range []string{"a", "b", "c"} {
		mustAdmit(t, s, base, gateJob(id, "u-"+id, "g1"), l)
	}
	if got := mustAdmit(t, s, base, gateJob("d", "u-d", "g1"), storage.Limits{}); got != runs() {
		t.Errorf("Admit with MaxRunning 0 beside a queue = %+v; want running", got)
	}
	if got := mustPromote(t, s, base, storage.Limits{}); !cmp.Equal(got, []string{"b", "c"}) {
		t.Errorf("Promote with MaxRunning 0 = %v; want the whole queue [b c]", got)
	}
	mustCounts(t, s, 4, 0)
}

// testNoOvertaking checks that a new job queues behind waiting ones even
// when a slot has just freed.
func testNoOvertaking(t *testing.T, s GateStore) {
	l := storage.Limits{MaxRunning: 1}
	mustAdmit(t, s, base, gateJob("a", "u1", "g1"), l)
	mustAdmit(t, s, base, gateJob("b", "u2", "g1"), l)
	mustFinish(t, s, "a", true)
	if got := mustAdmit(t, s, base, gateJob("c", "u3", "g1"), l); got != queuedAt(2) {
		t.Errorf("Admit with a free slot and a waiting job = %+v; want queued at 2", got)
	}
	if got := mustPromote(t, s, base, l); !cmp.Equal(got, []string{"b"}) {
		t.Errorf("Promote = %v; want [b]", got)
	}
	mustPositions(t, s, map[string]int{"c": 1})
}

func testFinishReleasesRunning(t *testing.T, s GateStore) {
	l := storage.Limits{MaxRunning: 1, MaxQueued: 1, UserMaxActive: 1, GuildMaxActive: 1}
	mustAdmit(t, s, base, gateJob("a", "u1", "g1"), l)
	if got := mustAdmit(t, s, base, gateJob("b", "u1", "g2"), l); got.Refused != storage.RefusedUserActive {
		t.Fatalf("Admit(b) = %+v; want refused by user_active", got)
	}
	mustFinish(t, s, "a", true)
	mustFinish(t, s, "a", false)
	mustCounts(t, s, 0, 0)
	if got := mustAdmit(t, s, base, gateJob("b", "u1", "g1"), l); got != runs() {
		t.Errorf("Admit of the same user and guild after Finish = %+v; want running", got)
	}
}

// testFinishReleasesQueued finishes a queued job, as when its user's token
// expires before its turn.
func testFinishReleasesQueued(t *testing.T, s GateStore) {
	l := storage.Limits{MaxRunning: 1, MaxQueued: 1, UserMaxActive: 1, GuildMaxActive: 1}
	mustAdmit(t, s, base, gateJob("a", "u1", "g1"), l)
	if got := mustAdmit(t, s, base, gateJob("b", "u2", "g2"), l); got != queuedAt(1) {
		t.Fatalf("Admit(b) = %+v; want queued at 1", got)
	}
	mustFinish(t, s, "b", true)
	mustCounts(t, s, 1, 0)
	mustPositions(t, s, map[string]int{"b": 0})
	if got := mustPromote(t, s, base, storage.Limits{}); len(got) != 0 {
		t.Errorf("Promote after the queued job finished = %v; want nothing", got)
	}
	if got := mustAdmit(t, s, base, gateJob("c", "u2", "g2"), l); got != queuedAt(1) {
		t.Errorf("Admit of the same user and guild after Finish = %+v; want queued at 1", got)
	}
}

// testBurstReleases runs a burst of songs that all end at once, running and
// queued alike, many times: no capacity may leak.
func testBurstReleases(t *testing.T, s GateStore) {
	l := storage.Limits{MaxRunning: 5, MaxQueued: 10, UserMaxActive: 2, GuildMaxActive: 8}
	for i := range 100 {
		id := fmt.Sprint("single-", i)
		if got := mustAdmit(t, s, base, gateJob(id, fmt.Sprint("u", i%10), fmt.Sprint("g", i%3)), l); got != runs() {
			t.Fatalf("Admit(%s) = %+v; want running", id, got)
		}
		mustFinish(t, s, id, true)
	}
	mustCounts(t, s, 0, 0)
	for round := range 10 {
		var admitted []string
		for u := range 8 {
			id := fmt.Sprintf("burst-%d-%d", round, u)
			if got := mustAdmit(t, s, base, gateJob(id, fmt.Sprint("u", u), "g0"), l); got.Refused != "" {
				t.Fatalf("round %d: Admit(%s) = %+v; want admitted", round, id, got)
			}
			admitted = append(admitted, id)
		}
		mustCounts(t, s, 5, 3)
		mustPromote(t, s, base, l)
		for i := len(admitted) - 1; i >= 0; i-- { // queued ones first
			mustFinish(t, s, admitted[i], true)
		}
		mustCounts(t, s, 0, 0)
	}
	mustCount(t, s, 0)
}

// testSaveCountsAsRunning checks the documented choice: Save bypasses the
// limits, but what it stores counts as running.
func testSaveCountsAsRunning(t *testing.T, s GateStore) {
	l := storage.Limits{MaxRunning: 1, UserMaxActive: 1, GuildMaxActive: 2}
	mustSave(t, s, gateJob("saved", "u1", "g1"))
	mustCounts(t, s, 1, 0)
	if got := mustAdmit(t, s, base, gateJob("a", "u1", "g2"), l); got.Refused != storage.RefusedUserActive {
		t.Errorf("Admit of the saved job's user = %+v; want refused by user_active", got)
	}
	if got := mustAdmit(t, s, base, gateJob("b", "u2", "g1"), l); got != queuedAt(1) {
		t.Errorf("Admit beside the saved job = %+v; want queued at 1", got)
	}
	moved := gateJob("saved", "u3", "g3") // replaced by another owner
	mustSave(t, s, moved)
	if got := mustAdmit(t, s, base, gateJob("c", "u1", "g1"), l); got != queuedAt(2) {
		t.Errorf("Admit of the replaced record's old user = %+v; want queued at 2", got)
	}
	mustFinish(t, s, "saved", true)
	mustCounts(t, s, 0, 2)
	if got := mustAdmit(t, s, base, gateJob("d", "u3", "g3"), l); got != queuedAt(3) {
		t.Errorf("Admit of the finished saved job's user = %+v; want queued at 3", got)
	}
}

// testRescheduleQueued checks that a queued job made due by Save or
// Reschedule leaves the queue and runs, so it is never both.
func testRescheduleQueued(t *testing.T, s GateStore) {
	l := storage.Limits{MaxRunning: 1}
	for _, id := range []string{"a", "b", "c"} {
		mustAdmit(t, s, base, gateJob(id, "u-"+id, "g1"), l)
	}
	if err := s.Reschedule(t.Context(), gateJob("b", "u-b", "g1")); err != nil {
		t.Fatalf("Reschedule(b) = %v", err)
	}
	mustSave(t, s, gateJob("c", "u-c", "g1"))
	mustCounts(t, s, 3, 0)
	mustPositions(t, s, map[string]int{"b": 0, "c": 0})
	if got := mustPromote(t, s, base, storage.Limits{}); len(got) != 0 {
		t.Errorf("Promote = %v; want nothing", got)
	}
	for _, id := range []string{"a", "b", "c"} {
		mustFinish(t, s, id, true)
	}
	mustCounts(t, s, 0, 0)
}

func testGateCancelled(t *testing.T, s GateStore) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := []struct {
		op   string
		call func() error
	}{
		{"admit", func() error {
			_, err := s.Admit(ctx, base, gateJob("a", "u1", "g1"), storage.Limits{})
			return err
		}},
		{"promote", func() error { _, err := s.Promote(ctx, base, storage.Limits{}); return err }},
		{"queue position", func() error { _, err := s.QueuePosition(ctx, "a"); return err }},
		{"counts", func() error { _, _, err := s.Counts(ctx); return err }},
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
	mustCount(t, s, 0)
}

// AdmitRace has callers goroutines, spread over stores (which share one
// backend), admit songs of 10 users at once under MaxRunning 5 and
// UserMaxActive 2, checking Counts after every call: never more than 5 run,
// and no user holds more than 2 places. Then they finish and promote
// concurrently, still never passing MaxRunning, until nothing is left.
func AdmitRace(t *testing.T, stores []GateStore, callers int) {
	t.Helper()
	const users, tries = 10, 8
	l := storage.Limits{MaxRunning: 5, UserMaxActive: 2}
	checkRunning := func(s GateStore, after string) {
		if r, _, err := s.Counts(t.Context()); err != nil || r > l.MaxRunning {
			t.Errorf("Counts() after %s = %d running, %v; want at most %d", after, r, err, l.MaxRunning)
		}
	}
	var mu sync.Mutex
	admitted := map[string][]string{} // user -> job ids
	var wg sync.WaitGroup
	for c := range callers {
		s := stores[c%len(stores)]
		wg.Go(func() {
			for i := range tries {
				for u := range users {
					user := fmt.Sprint("user-", u)
					id := fmt.Sprintf("c%d-%d-%d", c, i, u)
					adm, err := s.Admit(t.Context(), base, gateJob(id, user, "g"), l)
					if err != nil {
						t.Errorf("Admit(%s) = %v", id, err)
						return
					}
					checkRunning(s, "Admit("+id+")")
					if adm.Refused == "" {
						mu.Lock()
						admitted[user] = append(admitted[user], id)
						mu.Unlock()
					} else if adm.Refused != storage.RefusedUserActive {
						t.Errorf("Admit(%s) = %+v; want admitted or refused by user_active", id, adm)
					}
				}
			}
		})
	}
	wg.Wait()
	for u := range users {
		user := fmt.Sprint("user-", u)
		if n := len(admitted[user]); n != l.UserMaxActive {
			t.Errorf("%s was admitted %d times by %d racing callers; want %d", user, n, callers, l.UserMaxActive)
		}
	}
	mustCounts(t, stores[0], l.MaxRunning, users*l.UserMaxActive-l.MaxRunning)

	var all []string
	for _, jobs := range admitted {
		all = append(all, jobs...)
	}
	var next sync.Mutex
	for c := range callers {
		s := stores[c%len(stores)]
		wg.Go(func() {
			for {
				next.Lock()
				if len(all) == 0 {
					next.Unlock()
					return
				}
				id := all[0]
				all = all[1:]
				next.Unlock()
				if _, err := s.Finish(t.Context(), id); err != nil {
					t.Errorf("Finish(%s) = %v", id, err)
				}
				if _, err := s.Promote(t.Context(), base, l); err != nil {
					t.Errorf("Promote = %v", err)
				}
				checkRunning(s, "Finish("+id+") and Promote")
			}
		})
	}
	wg.Wait()
	mustCounts(t, stores[0], 0, 0)
}

// PromoteRace queues jobs behind MaxRunning slots and has callers
// goroutines, spread over stores (which share one backend), promote and
// finish them at once: each queued job must be promoted exactly once, in
// queue order within each call, and never more than MaxRunning run.
func PromoteRace(t *testing.T, stores []GateStore, jobs, callers int) {
	t.Helper()
	l := storage.Limits{MaxRunning: 3}
	for i := range jobs + l.MaxRunning {
		mustAdmit(t, stores[0], base, gateJob(fmt.Sprintf("job-%04d", i), fmt.Sprint("u", i), "g"), l)
	}
	mustCounts(t, stores[0], l.MaxRunning, jobs)
	var mu sync.Mutex
	promoted := map[string]int{}
	var wg sync.WaitGroup
	// The first slots' holders finish, so that promotion starts.
	for i := range l.MaxRunning {
		mustFinish(t, stores[0], fmt.Sprintf("job-%04d", i), true)
	}
	for c := range callers {
		s := stores[c%len(stores)]
		wg.Go(func() {
			for {
				ids, err := s.Promote(t.Context(), base, l)
				if err != nil {
					t.Errorf("Promote = %v", err)
					return
				}
				if r, _, err := s.Counts(t.Context()); err != nil || r > l.MaxRunning {
					t.Errorf("Counts() after Promote = %d running, %v; want at most %d", r, err, l.MaxRunning)
				}
				for i := 1; i < len(ids); i++ {
					if ids[i-1] >= ids[i] {
						t.Errorf("Promote = %v; want queue order", ids)
					}
				}
				mu.Lock()
				for _, id := range ids {
					promoted[id]++
				}
				done := len(promoted) == jobs
				mu.Unlock()
				for _, id := range ids {
					if ok, err := s.Finish(t.Context(), id); !ok || err != nil {
						t.Errorf("Finish(%s) = %v, %v; want true, nil", id, ok, err)
					}
				}
				if done || t.Failed() {
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range jobs {
		id := fmt.Sprintf("job-%04d", i+l.MaxRunning)
		if n := promoted[id]; n != 1 {
			t.Errorf("%s promoted %d times by %d callers; want once", id, n, callers)
		}
	}
	mustCounts(t, stores[0], 0, 0)
}
