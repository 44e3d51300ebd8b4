package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
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
		{"AdmitFromSong", testAdmitFromSong},
		{"AdmitOnce", testAdmitOnce},
		{"AdmitOnceConcurrent", testAdmitOnceConcurrent},
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

// mustAdmit admits job where no server set anything: the verdict's
// Limits must be l (negatives off), and it returns the verdict without
// them, so tests compare the rest.
func mustAdmit(t *testing.T, s storage.Gate, now time.Time, job storage.Job, l storage.Limits) storage.Admission {
	t.Helper()
	adm := mustAdmitFull(t, s, now, job, l)
	if want := effective(l, storage.Overrides{}); adm.Limits != want {
		t.Errorf("Admit(base+%v, %q).Limits = %+v; want the caller's, %+v", now.Sub(base), job.ID, adm.Limits, want)
	}
	adm.Limits = storage.Limits{}
	return adm
}

// mustAdmitFull returns the whole verdict, Limits included.
func mustAdmitFull(t *testing.T, s storage.Gate, now time.Time, job storage.Job, l storage.Limits) storage.Admission {
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

func testAdmitStores(t *testing.T, s GateStore) {
	want := gateJob("a", "u1", "g1")
	want.NextPollAt = base.Add(30 * time.Second)
	want.Locale, want.GuildLocale = "ja", "de" // delivered later in the right language
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
			want := st.want
			want.Duplicate = try > 0
			if got := mustAdmit(t, s, base.Add(time.Duration(try)*time.Second), st.job, l); got != want {
				t.Errorf("Admit(%q) try %d = %+v; want %+v", st.job.ID, try+1, got, want)
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
	if err := s.Reschedule(t.Context(), "b", gateJob("b", "u-b", "g1").State); err != nil {
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
