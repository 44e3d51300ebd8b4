// Package storagetest checks storage.Store implementations, and gives
// other packages' tests a store: Memory, in memory and passing the same
// contract suites as Redis and Bolt, or a real Redis server.
//
// Run is the contract every Store meets, in the manner of testing/slogtest:
//
//	func TestContract(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store {
//			return storagetest.NewRedisStore(t)
//		}, nil)
//	}
//
// RunGate is the contract of storage.Gate, the fair-use limits and queue;
// AdmitRace and PromoteRace also race several stores sharing one backend.
// RunGuild is the contract of storage.Settings and storage.Roster, the
// servers' settings and the queue views; CancelPromoteRace and
// PositionEditRace race several stores too. RunHistory is the contract of
// storage.History, RunSlots that of storage.Slots, the reservations that
// pace gateway starts across processes.
//
// NewMemory returns a store for unit tests that need no redis-server.
//
// RedisURL, Prefix and NewRedisStore give other packages' tests a real Redis
// without a mock: the server TEST_REDIS_URL names, or a private one. They
// never read REDIS_URL.
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

// Corrupt makes the stored record of the saved job id undecodable, the way
// a newer songbot or a careless operator might. Only the backend knows how.
type Corrupt func(t *testing.T, s storage.Store, id string)

// Run runs the contract suite as parallel subtests. newStore returns an
// empty store of the implementation under test for each subtest; the
// subtest closes it if newStore did not arrange that. corrupt may be nil,
// which skips the tests of undecodable records.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store, corrupt Corrupt) {
	tests := []contractTest{
		{"SaveGet", testSaveGet},
		{"GetMissing", testGetMissing},
		{"SaveEmptyID", testSaveEmptyID},
		{"SaveReplaces", testSaveReplaces},
		{"Count", testCount},
		{"ClaimEmpty", testClaimEmpty},
		{"ClaimLeases", testClaimLeases},
		{"LeaseExpiry", testLeaseExpiry},
		{"Reschedule", testReschedule},
		{"RescheduleFinished", testRescheduleFinished},
		{"RescheduleMany", testRescheduleMany},
		{"Extend", testExtend},
		{"RescheduleLeaseLost", testRescheduleLeaseLost},
		{"FinishOnce", testFinishOnce},
		{"FinishConcurrent", testFinishConcurrent},
		{"ClaimConcurrent", testClaimConcurrent},
		{"Cancelled", testCancelled},
		{"Ping", testPing},
	}
	if corrupt != nil {
		tests = append(tests,
			contractTest{"DecodeFailure", func(t *testing.T, s storage.Store) { testDecodeFailure(t, s, corrupt) }},
			contractTest{"FinishUndecodable", func(t *testing.T, s storage.Store) { testFinishUndecodable(t, s, corrupt) }},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t, newStore))
		})
	}
	t.Run("ClaimOrder", func(t *testing.T) {
		t.Parallel()
		testClaimOrder(t, newStore)
	})
}

type contractTest struct {
	name string
	fn   func(t *testing.T, s storage.Store)
}

func open(t *testing.T, newStore func(t *testing.T) storage.Store) storage.Store {
	t.Helper()
	s := newStore(t)
	t.Cleanup(func() { s.Close() })
	return s
}

// suiteToken is the lease token the suite claims with.
const suiteToken = "suite-token"

// base is the suite's clock; times are whole milliseconds, as stored.
var base = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newJob(id string, due time.Time) storage.Job {
	return storage.Job{
		ID: id,
		Request: storage.Request{
			InteractionToken: "secret-token-" + id,
			AppID:            "app",
			ChannelID:        "channel",
			GuildID:          "guild",
			UserID:           "user",
			Prompt:           "a song about " + id,
			InteractionAt:    base.Add(-time.Minute),
		},
		State: storage.State{
			WhisulID:    "w-" + id,
			PollURL:     "/jobs/w-" + id,
			SubmittedAt: base.Add(-59 * time.Second),
			NextPollAt:  due,
		},
	}
}

func mustSave(t *testing.T, s storage.Store, jobs ...storage.Job) {
	t.Helper()
	for _, job := range jobs {
		if err := s.Save(t.Context(), job); err != nil {
			t.Fatalf("Save(%q) = %v", job.ID, err)
		}
	}
}

func mustClaim(t *testing.T, s storage.Store, now time.Time, lease time.Duration, limit int) []storage.Job {
	t.Helper()
	jobs, err := s.Claim(t.Context(), now, suiteToken, lease, limit)
	if err != nil {
		t.Fatalf("Claim(%v, %v, %d) = %v", now.Sub(base), lease, limit, err)
	}
	return jobs
}

func mustGet(t *testing.T, s storage.Store, id string) storage.Job {
	t.Helper()
	job, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%q) = %v", id, err)
	}
	return job
}

func mustCount(t *testing.T, s storage.Store, want int) {
	t.Helper()
	n, err := s.Count(t.Context())
	if err != nil || n != want {
		t.Fatalf("Count() = %d, %v; want %d", n, err, want)
	}
}

func ids(jobs []storage.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

func testSaveGet(t *testing.T, s storage.Store) {
	full := newJob("full", base)
	full.Ephemeral = true
	full.Attempts = 7
	full.AttachmentLimit = 25 << 20
	full.Locale, full.GuildLocale = "pt-BR", "fr"
	full.LastStatus = "running"
	full.LastError = "whisul: 503"
	odd := newJob("odd", base.Add(time.Hour))
	odd.GuildID = ""
	odd.Prompt = "ünïcödé 🎵\nnew line, \"quotes\", {braces} and a \x00 byte"
	odd.PollURL = ""
	tests := []storage.Job{
		full,
		odd,
		{ID: "bare"}, // zero times, empty strings
		{ID: "before-1970", State: storage.State{NextPollAt: time.UnixMilli(-1000).UTC()}},
	}
	for _, want := range tests {
		mustSave(t, s, want)
		if got := mustGet(t, s, want.ID); !cmp.Equal(got, want) {
			t.Errorf("Get(%q) after Save: (-got +want)\n%s", want.ID, cmp.Diff(got, want))
		}
	}
	mustCount(t, s, len(tests))
}

func testGetMissing(t *testing.T, s storage.Store) {
	if _, err := s.Get(t.Context(), "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(%q) = %v; want ErrNotFound", "nope", err)
	}
}

func testSaveEmptyID(t *testing.T, s storage.Store) {
	if err := s.Save(t.Context(), storage.Job{}); err == nil {
		t.Errorf("Save(Job{}) = nil; want an error for the empty ID")
	}
	mustCount(t, s, 0)
}

func testSaveReplaces(t *testing.T, s storage.Store) {
	old := newJob("a", base)
	repl := newJob("a", base.Add(time.Hour))
	repl.Prompt = "replaced"
	mustSave(t, s, old, repl)
	if got := mustGet(t, s, "a"); !cmp.Equal(got, repl) {
		t.Errorf("Get after second Save: (-got +want)\n%s", cmp.Diff(got, repl))
	}
	mustCount(t, s, 1)
	if got := mustClaim(t, s, base, time.Minute, 10); len(got) != 0 {
		t.Errorf("Claim at the old due time = %v; want nothing", ids(got))
	}
	if got := mustClaim(t, s, base.Add(time.Hour), time.Minute, 10); len(got) != 1 || got[0].Prompt != "replaced" {
		t.Errorf("Claim at the new due time = %+v; want the replacement", got)
	}
}

func testCount(t *testing.T, s storage.Store) {
	mustCount(t, s, 0)
	mustSave(t, s, newJob("a", base), newJob("b", base), newJob("c", base.Add(time.Hour)))
	mustCount(t, s, 3)
	mustClaim(t, s, base, time.Minute, 10)
	mustCount(t, s, 3) // claimed jobs are still pending
	if _, err := s.Finish(t.Context(), "a"); err != nil {
		t.Fatalf("Finish(a) = %v", err)
	}
	mustCount(t, s, 2)
}

func testClaimEmpty(t *testing.T, s storage.Store) {
	if got := mustClaim(t, s, base, time.Minute, 10); len(got) != 0 {
		t.Errorf("Claim on an empty store = %v", ids(got))
	}
	mustSave(t, s, newJob("a", base))
	if got := mustClaim(t, s, base, time.Minute, 0); len(got) != 0 {
		t.Errorf("Claim(limit 0) = %v; want nothing", ids(got))
	}
	if _, err := s.Claim(t.Context(), base, suiteToken, 0, 10); err == nil {
		t.Errorf("Claim(lease 0) = nil error; want one")
	}
	if got := mustClaim(t, s, base.Add(-time.Millisecond), time.Minute, 10); len(got) != 0 {
		t.Errorf("Claim 1ms before due = %v; want nothing", ids(got))
	}
}

func testClaimOrder(t *testing.T, newStore func(t *testing.T) storage.Store) {
	// Saved out of order; "zero" has no due time and is due at once.
	jobs := []storage.Job{
		newJob("c", base.Add(3*time.Second)),
		newJob("a", base.Add(1*time.Second)),
		newJob("later", base.Add(time.Hour)),
		newJob("d", base.Add(4*time.Second)),
		newJob("b", base.Add(2*time.Second)),
		{ID: "zero"},
	}
	tests := []struct {
		now   time.Time
		limit int
		want  []string
	}{
		{base.Add(10 * time.Second), 100, []string{"zero", "a", "b", "c", "d"}},
		{base.Add(10 * time.Second), 3, []string{"zero", "a", "b"}},
		{base.Add(2 * time.Second), 100, []string{"zero", "a", "b"}},
		{base, 100, []string{"zero"}},
		{base.Add(2 * time.Hour), 100, []string{"zero", "a", "b", "c", "d", "later"}},
	}
	for _, tt := range tests {
		s := open(t, newStore)
		mustSave(t, s, jobs...)
		got := ids(mustClaim(t, s, tt.now, time.Minute, tt.limit))
		if !cmp.Equal(got, tt.want) {
			t.Errorf("Claim(base+%v, limit %d) = %v; want %v", tt.now.Sub(base), tt.limit, got, tt.want)
		}
	}
}

func testClaimLeases(t *testing.T, s storage.Store) {
	saved := newJob("a", base)
	saved.Attempts = 2
	mustSave(t, s, saved)
	got := mustClaim(t, s, base.Add(time.Second), 30*time.Second, 10)
	want := saved
	want.Attempts = 3
	want.NextPollAt = base.Add(31 * time.Second)
	want.Lease = suiteToken
	want.ScheduledAt = base
	if len(got) != 1 || !cmp.Equal(got[0], want) {
		t.Fatalf("Claim = %+v; want [%+v]", got, want)
	}
	if g := mustGet(t, s, "a"); !cmp.Equal(g, want) {
		t.Errorf("Get after Claim: (-got +want)\n%s", cmp.Diff(g, want))
	}
}

func testLeaseExpiry(t *testing.T, s storage.Store) {
	mustSave(t, s, newJob("a", base))
	const lease = 30 * time.Second
	steps := []struct {
		at           time.Duration
		wantAttempts int // 0: nothing claimed
	}{
		{0, 1},
		{10 * time.Second, 0},         // leased
		{lease - time.Millisecond, 0}, // still leased
		{lease + time.Second, 2},      // the claimer died; due again
		{lease + 2*time.Second, 0},    // leased again
	}
	for _, st := range steps {
		got := mustClaim(t, s, base.Add(st.at), lease, 10)
		switch {
		case st.wantAttempts == 0 && len(got) != 0:
			t.Errorf("Claim(base+%v) = %v; want nothing while leased", st.at, ids(got))
		case st.wantAttempts != 0 && (len(got) != 1 || got[0].Attempts != st.wantAttempts):
			t.Errorf("Claim(base+%v) = %+v; want job a with %d attempts", st.at, got, st.wantAttempts)
		}
	}
}

func testReschedule(t *testing.T, s storage.Store) {
	mustSave(t, s, newJob("a", base))
	job := mustClaim(t, s, base, time.Minute, 10)[0]
	job.LastStatus = "running"
	job.LastError = "timeout"
	job.PollURL = "/jobs/moved"
	job.Attempts = 99 // ignored: the store keeps its own count
	job.NextPollAt = base.Add(5 * time.Second)
	if err := s.Reschedule(t.Context(), job.ID, job.State); err != nil {
		t.Fatalf("Reschedule(%q) = %v", job.ID, err)
	}
	want := job
	want.Attempts = 1
	want.Lease = "" // released: scheduled, held by nobody
	if got := mustGet(t, s, "a"); !cmp.Equal(got, want) {
		t.Errorf("Get after Reschedule: (-got +want)\n%s", cmp.Diff(got, want))
	}
	if got := mustClaim(t, s, base.Add(4*time.Second), time.Minute, 10); len(got) != 0 {
		t.Errorf("Claim before the new due time = %v; want nothing", ids(got))
	}
	got := mustClaim(t, s, base.Add(5*time.Second), time.Minute, 10)
	if len(got) != 1 || got[0].Attempts != 2 || got[0].LastStatus != "running" {
		t.Errorf("Claim at the new due time = %+v; want job a, 2 attempts, status running", got)
	}
	mustCount(t, s, 1)
}

func testRescheduleFinished(t *testing.T, s storage.Store) {
	mustSave(t, s, newJob("a", base))
	job := mustClaim(t, s, base, time.Minute, 10)[0]
	if ok, err := s.Finish(t.Context(), "a"); !ok || err != nil {
		t.Fatalf("Finish(a) = %v, %v; want true, nil", ok, err)
	}
	job.NextPollAt = base.Add(time.Second)
	if err := s.Reschedule(t.Context(), job.ID, job.State); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Reschedule after Finish = %v; want ErrNotFound", err)
	}
	if _, err := s.Get(t.Context(), "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get after Reschedule of a finished job = %v; want ErrNotFound", err)
	}
	if got := mustClaim(t, s, base.Add(time.Hour), time.Minute, 10); len(got) != 0 {
		t.Errorf("Claim after Reschedule of a finished job = %v; want nothing", ids(got))
	}
	mustCount(t, s, 0)
	if err := s.Reschedule(t.Context(), "never", newJob("never", base).State); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Reschedule of a job never saved = %v; want ErrNotFound", err)
	}
}

func testRescheduleMany(t *testing.T, s storage.Store) {
	var jobs []storage.Job
	for i := range 5 {
		jobs = append(jobs, newJob(fmt.Sprint("batch-", i), base))
	}
	mustSave(t, s, jobs...)
	claimed := mustClaim(t, s, base, time.Minute, 5)
	if _, err := s.Finish(t.Context(), claimed[2].ID); err != nil {
		t.Fatalf("Finish = %v", err)
	}
	for i := range claimed {
		claimed[i].LastStatus = "queued"
		claimed[i].NextPollAt = base.Add(time.Duration(i+1) * time.Second)
		claimed[i].Prompt = "ignored: RescheduleMany writes the state only"
	}
	errs := s.RescheduleMany(t.Context(), claimed)
	if len(errs) != len(claimed) {
		t.Fatalf("RescheduleMany returned %d errors for %d jobs", len(errs), len(claimed))
	}
	for i, err := range errs {
		if i == 2 {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("RescheduleMany[%d] (finished) = %v; want ErrNotFound", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("RescheduleMany[%d] = %v", i, err)
			continue
		}
		got := mustGet(t, s, claimed[i].ID)
		if got.Attempts != 1 || got.LastStatus != "queued" || !got.NextPollAt.Equal(claimed[i].NextPollAt) {
			t.Errorf("Get(%q) after RescheduleMany = %+v; want 1 attempt, status queued, due %v",
				claimed[i].ID, got, claimed[i].NextPollAt)
		}
		if want := newJob(claimed[i].ID, base).Request; !cmp.Equal(got.Request, want) {
			t.Errorf("Get(%q) after RescheduleMany: the request changed (-got +want)\n%s",
				claimed[i].ID, cmp.Diff(got.Request, want))
		}
	}
	if _, err := s.Get(t.Context(), claimed[2].ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RescheduleMany resurrected the finished job: Get = %v", err)
	}
	if errs := s.RescheduleMany(t.Context(), nil); len(errs) != 0 {
		t.Errorf("RescheduleMany(nil) = %v", errs)
	}
}

func testExtend(t *testing.T, s storage.Store) {
	mustSave(t, s, newJob("a", base), newJob("b", base))
	const lease = 10 * time.Second
	mustClaim(t, s, base, lease, 10)
	lost, err := s.Extend(t.Context(), base.Add(5*time.Second), suiteToken, []string{"a", "b", "never"}, lease)
	if err != nil || !cmp.Equal(lost, []string{"never"}) {
		t.Fatalf("Extend(a, b, never) = %v, %v; want [never] lost", lost, err)
	}
	if got := mustGet(t, s, "a"); !got.NextPollAt.Equal(base.Add(15 * time.Second)) {
		t.Errorf("Get(a) after Extend: NextPollAt = %v; want the new lease end %v", got.NextPollAt, base.Add(15*time.Second))
	}
	if got := mustClaim(t, s, base.Add(lease+time.Second), lease, 10); len(got) != 0 {
		t.Errorf("Claim after the first lease, within the extended one = %v; want nothing", ids(got))
	}
	// The holder stops extending; another process claims after the lease.
	other, err := s.Claim(t.Context(), base.Add(16*time.Second), "other-token", lease, 1)
	if err != nil || len(other) != 1 || other[0].Lease != "other-token" {
		t.Fatalf("Claim by another token after the lease = %+v, %v; want one job leased to it", other, err)
	}
	lost, err = s.Extend(t.Context(), base.Add(17*time.Second), suiteToken, []string{"a", "b"}, lease)
	if err != nil || !cmp.Equal(lost, []string{other[0].ID}) {
		t.Errorf("Extend after another claimed %s = %v, %v; want it lost", other[0].ID, lost, err)
	}
	if lost, err := s.Extend(t.Context(), base, suiteToken, nil, lease); len(lost) != 0 || err != nil {
		t.Errorf("Extend(no ids) = %v, %v; want nothing", lost, err)
	}
}

func testRescheduleLeaseLost(t *testing.T, s storage.Store) {
	mustSave(t, s, newJob("a", base))
	const lease = 10 * time.Second
	mine := mustClaim(t, s, base, lease, 1)[0]
	theirs, err := s.Claim(t.Context(), base.Add(lease+time.Second), "other-token", lease, 1)
	if err != nil || len(theirs) != 1 {
		t.Fatalf("Claim by another token after the lease = %v, %v", ids(theirs), err)
	}
	mine.LastStatus = "stale"
	mine.NextPollAt = base.Add(time.Hour)
	if err := s.Reschedule(t.Context(), mine.ID, mine.State); !errors.Is(err, storage.ErrLeaseLost) {
		t.Errorf("Reschedule by the old holder = %v; want ErrLeaseLost", err)
	}
	if errs := s.RescheduleMany(t.Context(), []storage.Job{mine}); !errors.Is(errs[0], storage.ErrLeaseLost) {
		t.Errorf("RescheduleMany by the old holder = %v; want ErrLeaseLost", errs)
	}
	if got := mustGet(t, s, "a"); got.Lease != "other-token" || got.LastStatus == "stale" {
		t.Errorf("Get after the old holder's writes = lease %q, status %q; want the new holder's job untouched", got.Lease, got.LastStatus)
	}
	theirs[0].LastStatus = "running"
	theirs[0].NextPollAt = base.Add(time.Minute)
	if err := s.Reschedule(t.Context(), "a", theirs[0].State); err != nil {
		t.Fatalf("Reschedule by the holder = %v", err)
	}
	if got := mustGet(t, s, "a"); got.Lease != "" || got.LastStatus != "running" {
		t.Errorf("Get after the holder's Reschedule = lease %q, status %q; want released, running", got.Lease, got.LastStatus)
	}
}

func testFinishOnce(t *testing.T, s storage.Store) {
	mustSave(t, s, newJob("a", base), newJob("b", base))
	steps := []struct {
		id   string
		want bool
	}{{"a", true}, {"a", false}, {"nope", false}, {"b", true}}
	for _, st := range steps {
		if got, err := s.Finish(t.Context(), st.id); got != st.want || err != nil {
			t.Errorf("Finish(%q) = %v, %v; want %v, nil", st.id, got, err, st.want)
		}
	}
	mustCount(t, s, 0)
	if _, err := s.Get(t.Context(), "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get after Finish = %v; want ErrNotFound", err)
	}
}

func testFinishConcurrent(t *testing.T, s storage.Store) {
	const jobs, callers = 20, 8
	for i := range jobs {
		mustSave(t, s, newJob(fmt.Sprint(i), base))
	}
	var mu sync.Mutex
	removed := map[string]int{}
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for i := range jobs {
				id := fmt.Sprint(i)
				ok, err := s.Finish(t.Context(), id)
				if err != nil {
					t.Errorf("Finish(%q) = %v", id, err)
				}
				if ok {
					mu.Lock()
					removed[id]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for i := range jobs {
		if n := removed[fmt.Sprint(i)]; n != 1 {
			t.Errorf("Finish(%q) returned true %d times among %d callers; want once", fmt.Sprint(i), n, callers)
		}
	}
}

func testClaimConcurrent(t *testing.T, s storage.Store) {
	ClaimRace(t, []storage.Store{s}, 300, 12)
}

// ClaimRace saves jobs into stores[0] and has callers goroutines, spread
// over stores (which share one backend), claim them in small batches at
// once, twice: every job must be claimed by exactly one caller per lease.
func ClaimRace(t *testing.T, stores []storage.Store, jobs, callers int) {
	t.Helper()
	for i := range jobs {
		mustSave(t, stores[0], newJob(fmt.Sprintf("job-%04d", i), base))
	}
	const lease = time.Minute
	for round, now := range []time.Time{base, base.Add(lease)} {
		var mu sync.Mutex
		claimed := map[string]int{}
		var wg sync.WaitGroup
		for c := range callers {
			s := stores[c%len(stores)]
			wg.Go(func() {
				for {
					got, err := s.Claim(t.Context(), now, suiteToken, lease, 7)
					if err != nil {
						t.Errorf("Claim = %v", err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, j := range got {
						claimed[j.ID]++
						if j.Attempts != round+1 {
							t.Errorf("round %d: Claim returned %s with %d attempts; want %d", round, j.ID, j.Attempts, round+1)
						}
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for i := range jobs {
			id := fmt.Sprintf("job-%04d", i)
			if n := claimed[id]; n != 1 {
				t.Errorf("round %d: %s claimed %d times by %d callers; want once", round, id, n, callers)
			}
		}
	}
}

func testCancelled(t *testing.T, s storage.Store) {
	mustSave(t, s, newJob("a", base))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// A reschedule that wrote despite the cancellation would show.
	later := newJob("a", base.Add(time.Hour))
	calls := []struct {
		op   string
		call func() error
	}{
		{"save", func() error { return s.Save(ctx, newJob("b", base)) }},
		{"claim", func() error { _, err := s.Claim(ctx, base, suiteToken, time.Minute, 10); return err }},
		{"reschedule", func() error { return s.Reschedule(ctx, later.ID, later.State) }},
		{"reschedule", func() error { return s.RescheduleMany(ctx, []storage.Job{later})[0] }},
		{"finish", func() error { _, err := s.Finish(ctx, "a"); return err }},
		{"get", func() error { _, err := s.Get(ctx, "a"); return err }},
		{"count", func() error { _, err := s.Count(ctx); return err }},
		{"ping", func() error { return s.Ping(ctx) }},
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
	if diff := cmp.Diff(newJob("a", base), mustGet(t, s, "a")); diff != "" {
		t.Errorf("a cancelled call changed the job (-want +got):\n%s", diff)
	}
	mustCount(t, s, 1)
}

func testPing(t *testing.T, s storage.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping = %v", err)
	}
}

func testDecodeFailure(t *testing.T, s storage.Store, corrupt Corrupt) {
	mustSave(t, s, newJob("good1", base), newJob("bad", base.Add(time.Second)), newJob("good2", base.Add(2*time.Second)))
	corrupt(t, s, "bad")
	if _, err := s.Get(t.Context(), "bad"); !errors.Is(err, storage.ErrCorrupt) {
		t.Errorf("Get(bad) = %v; want ErrCorrupt", err)
	}
	if err := s.Reschedule(t.Context(), "bad", newJob("bad", base).State); !errors.Is(err, storage.ErrCorrupt) {
		t.Errorf("Reschedule(bad) = %v; want ErrCorrupt", err)
	}
	got := ids(mustClaim(t, s, base.Add(time.Minute), time.Minute, 10))
	if want := []string{"good1", "good2"}; !cmp.Equal(got, want) {
		t.Errorf("Claim past an undecodable job = %v; want %v", got, want)
	}
	mustCount(t, s, 2)
	if _, err := s.Get(t.Context(), "bad"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(bad) after Claim moved it aside = %v; want ErrNotFound", err)
	}
	if got := ids(mustClaim(t, s, base.Add(time.Hour), time.Minute, 10)); !cmp.Equal(got, []string{"good1", "good2"}) {
		t.Errorf("Claim after the move aside = %v; want good1, good2", got)
	}
	if ok, err := s.Finish(t.Context(), "bad"); ok || err != nil {
		t.Errorf("Finish(bad) after the move aside = %v, %v; want false, nil", ok, err)
	}
}

func testFinishUndecodable(t *testing.T, s storage.Store, corrupt Corrupt) {
	mustSave(t, s, newJob("bad", base))
	corrupt(t, s, "bad")
	if ok, err := s.Finish(t.Context(), "bad"); !ok || err != nil {
		t.Errorf("Finish(bad) = %v, %v; want true, nil", ok, err)
	}
	mustCount(t, s, 0)
	if got := mustClaim(t, s, base.Add(time.Hour), time.Minute, 10); len(got) != 0 {
		t.Errorf("Claim after Finish(bad) = %v; want nothing", ids(got))
	}
}
