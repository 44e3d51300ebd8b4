package storagetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/songbot-dev/songbot/storage"
)

func mustCancel(t *testing.T, s storage.Roster, now time.Time, id string) storage.Job {
	t.Helper()
	job, err := s.Cancel(t.Context(), now, id)
	if err != nil {
		t.Fatalf("Cancel(%q) = %v", id, err)
	}
	return job
}

// summary names each job with what a queue view shows of it:
// "id:run" or "id:q<position>/<shown position>".
func summary(jobs []storage.ActiveJob) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		if j.Queued {
			out[i] = fmt.Sprintf("%s:q%d/%d", j.ID, j.Position, j.ShownPosition)
		} else {
			out[i] = fmt.Sprintf("%s:run/%d", j.ID, j.ShownPosition)
		}
	}
	return out
}

// checkJobs compares the listed jobs' records with what Get returns.
func checkJobs(t *testing.T, s storage.Store, call string, jobs []storage.ActiveJob) {
	t.Helper()
	for _, j := range jobs {
		if want := mustGet(t, s, j.ID); !cmp.Equal(j.Job, want) {
			t.Errorf("%s: job %s (-got +want)\n%s", call, j.ID, cmp.Diff(j.Job, want))
		}
	}
}

func testCancel(t *testing.T, open Backend) {
	s := open(t)
	l := storage.Limits{MaxRunning: 1, UserMaxActive: 1, GuildMaxActive: 2}
	mustAdmit(t, s, base, gateJob("a", "u1", "g1"), l)
	mustAdmit(t, s, base, gateJob("b", "u2", "g1"), l)
	mustAdmit(t, s, base, gateJob("c", "u3", "g2"), l)
	if got := mustAdmit(t, s, base, gateJob("d", "u4", "g1"), l); got.Refused != storage.RefusedGuildActive {
		t.Fatalf("Admit(d) = %+v; want refused by guild_active", got)
	}
	want := mustGet(t, s, "b")
	if got := mustCancel(t, s, base, "b"); !cmp.Equal(got, want) {
		t.Errorf("Cancel(b) returned (-got +want)\n%s", cmp.Diff(got, want))
	}
	if _, err := s.Get(t.Context(), "b"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(b) after Cancel = %v; want ErrNotFound", err)
	}
	mustCounts(t, s, 1, 1)
	mustPositions(t, s, map[string]int{"b": 0, "c": 1})
	if got := mustAdmit(t, s, base, gateJob("d", "u4", "g1"), l); got != queuedAt(2) {
		t.Errorf("Admit(d) in the cancelled job's guild = %+v; want queued at 2", got)
	}
	if got := mustAdmit(t, s, base, gateJob("e", "u2", "g3"), l); got != queuedAt(3) {
		t.Errorf("Admit(e) of the cancelled job's user = %+v; want queued at 3", got)
	}
	if got := mustAdmit(t, s, base.Add(time.Minute), gateJob("b", "u2", "g1"), l); got != (storage.Admission{Duplicate: true}) {
		t.Errorf("Admit(b) redelivered after Cancel = %+v; want Duplicate only", got)
	}
	if _, err := s.Get(t.Context(), "b"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(b) after the redelivery = %v; want ErrNotFound (nothing stored)", err)
	}
	mustFinish(t, s, "a", true)
	if got := mustPromote(t, s, base, l); !cmp.Equal(got, []string{"c"}) {
		t.Errorf("Promote after Cancel(b) = %v; want [c]", got)
	}
	if got := ids(mustClaim(t, s, base.Add(time.Hour), time.Minute, 10)); !cmp.Equal(got, []string{"c"}) {
		t.Errorf("Claim = %v; want [c], never the cancelled job", got)
	}
}

// testCancelFreesDailyCounts: Cancel takes the admission off the day it
// was counted on, for the user, the guild and the bot, and the cooldown
// stays.
func testCancelFreesDailyCounts(t *testing.T, open Backend) {
	s := open(t)
	l := storage.Limits{MaxRunning: 1, UserCooldown: time.Minute, UserDailyLimit: 1, GuildDailyLimit: 2, DailyLimit: 3}
	mustAdmit(t, s, base, gateJob("a", "u1", "g1"), l)
	mustAdmit(t, s, base, gateJob("b", "u2", "g1"), l)
	if got, want := mustUsage(t, s, base, "u2", "g1"), (storage.Usage{UserToday: 1, GuildToday: 2, BotToday: 2, CooldownUntil: base.Add(time.Minute)}); got != want {
		t.Errorf("Usage(u2, g1) = %+v; want %+v", got, want)
	}
	if got := mustAdmit(t, s, base, gateJob("c", "u3", "g1"), l); got.Refused != storage.RefusedGuildDaily {
		t.Fatalf("Admit(c) = %+v; want refused by guild_daily_limit", got)
	}
	now := base.Add(time.Second)
	mustCancel(t, s, now, "b")
	if got, want := mustUsage(t, s, now, "u2", "g1"), (storage.Usage{UserToday: 0, GuildToday: 1, BotToday: 1, CooldownUntil: base.Add(time.Minute)}); got != want {
		t.Errorf("Usage(u2, g1) after Cancel(b) = %+v; want %+v: counts freed, cooldown kept", got, want)
	}
	if got := mustAdmit(t, s, now, gateJob("b2", "u2", "g2"), l); got != refusedBy(storage.RefusedCooldown, base.Add(time.Minute)) {
		t.Errorf("Admit of u2 in the cooldown after Cancel = %+v; want refused by cooldown", got)
	}
	if got := mustAdmit(t, s, now, gateJob("c", "u3", "g1"), l); got != queuedAt(1) {
		t.Errorf("Admit(c) in g1 after Cancel(b) = %+v; want queued at 1: the guild's count freed", got)
	}
	// u2's and the bot's counts were freed too, else this is refused.
	if got := mustAdmit(t, s, base.Add(time.Minute), gateJob("d", "u2", "g2"), l); got != queuedAt(2) {
		t.Errorf("Admit(d) of u2 after the cooldown = %+v; want queued at 2", got)
	}
	if got := mustAdmit(t, s, base.Add(time.Minute), gateJob("e", "u4", ""), l); got != refusedBy(storage.RefusedBotDaily, midnight) {
		t.Errorf("Admit(e) with the bot's 3 admissions = %+v; want refused by bot_daily_limit", got)
	}

	// A cancel on the next day takes the admission off its own day.
	next := midnight.Add(time.Hour)
	mustAdmit(t, s, next, gateJob("f", "u5", "g3"), l)
	mustCancel(t, s, next, "c")
	if got, want := mustUsage(t, s, next, "u5", "g3"), (storage.Usage{UserToday: 1, GuildToday: 1, BotToday: 1, CooldownUntil: next.Add(time.Minute)}); got != want {
		t.Errorf("Usage of the next day after cancelling a job of the day before = %+v; want %+v", got, want)
	}
	if got, want := mustUsage(t, s, base.Add(time.Hour), "u3", "g1"), (storage.Usage{UserToday: 0, GuildToday: 1, BotToday: 2}); got != want {
		t.Errorf("Usage of the day before after Cancel(c) = %+v; want %+v", got, want)
	}
}

func testCancelOutcomes(t *testing.T, open Backend) {
	s := open(t)
	l := storage.Limits{MaxRunning: 1}
	mustAdmit(t, s, base, gateJob("a", "u1", "g1"), l)
	mustAdmit(t, s, base, gateJob("b", "u2", "g1"), l)
	mustAdmit(t, s, base, gateJob("c", "u3", "g1"), l)
	mustFinish(t, s, "b", true)
	mustCancel(t, s, base, "c")
	for _, tt := range []struct {
		id   string
		want error
	}{
		{"a", storage.ErrNotQueued}, // running
		{"b", storage.ErrNotFound},  // finished
		{"c", storage.ErrNotFound},  // cancelled already
		{"nope", storage.ErrNotFound},
	} {
		_, err := s.Cancel(t.Context(), base, tt.id)
		if !errors.Is(err, tt.want) {
			t.Errorf("Cancel(%q) = %v; want %v", tt.id, err, tt.want)
		} else if !strings.HasPrefix(err.Error(), "storage: cancel: ") {
			t.Errorf("Cancel(%q) error %q does not start with %q", tt.id, err, "storage: cancel: ")
		}
	}
	mustGet(t, s, "a")
	mustCounts(t, s, 1, 0)
}

// CancelPromoteRace has a Cancel (through stores[0]) and a Promote
// (through the last of stores, which share one backend) race for one
// queued job, rounds times: exactly one wins each time. Either Cancel
// returns the job, which is then gone and never promoted or claimed, or
// Promote moves it and Cancel returns ErrNotQueued.
func CancelPromoteRace(t *testing.T, stores []GuildStore, rounds int) {
	t.Helper()
	l := storage.Limits{MaxRunning: 1}
	canceller, promoter := stores[0], stores[len(stores)-1]
	var cancels, promotions int
	for round := range rounds {
		running, queued := jobName(round, 0), jobName(round, 1)
		mustAdmit(t, canceller, base, gateJob(running, "u1", "g1"), l)
		if got := mustAdmit(t, canceller, base, gateJob(queued, "u2", "g1"), l); got != queuedAt(1) {
			t.Fatalf("round %d: Admit(%s) = %+v; want queued at 1", round, queued, got)
		}
		mustFinish(t, canceller, running, true)
		var (
			wg        sync.WaitGroup
			start     = make(chan struct{})
			job       storage.Job
			cancelErr error
			promoted  []string
			promErr   error
		)
		wg.Go(func() { <-start; job, cancelErr = canceller.Cancel(t.Context(), base, queued) })
		wg.Go(func() { <-start; promoted, promErr = promoter.Promote(t.Context(), base, l) })
		close(start)
		wg.Wait()
		if promErr != nil {
			t.Fatalf("round %d: Promote = %v", round, promErr)
		}
		switch {
		case cancelErr == nil:
			cancels++
			if job.ID != queued || len(promoted) != 0 {
				t.Errorf("round %d: Cancel returned %q and Promote %v; want the job cancelled, nothing promoted", round, job.ID, promoted)
			}
			if _, err := canceller.Get(t.Context(), queued); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("round %d: Get(%s) after its Cancel won = %v; want ErrNotFound", round, queued, err)
			}
			if got := mustClaim(t, promoter, base.Add(time.Hour), time.Minute, 10); len(got) != 0 {
				t.Errorf("round %d: Claim after its Cancel won = %v; want nothing", round, ids(got))
			}
			mustCounts(t, promoter, 0, 0)
		case errors.Is(cancelErr, storage.ErrNotQueued):
			promotions++
			if !cmp.Equal(promoted, []string{queued}) {
				t.Errorf("round %d: Cancel = ErrNotQueued and Promote = %v; want [%s]", round, promoted, queued)
			}
			mustGet(t, canceller, queued)
			mustCounts(t, canceller, 1, 0)
			mustFinish(t, canceller, queued, true)
		default:
			t.Fatalf("round %d: Cancel(%s) = %v; want the job or ErrNotQueued", round, queued, cancelErr)
		}
	}
	t.Logf("%d rounds: Cancel won %d, Promote %d", rounds, cancels, promotions)
}

func testActiveJobs(t *testing.T, open Backend) {
	s := open(t)
	l := storage.Limits{MaxRunning: 2}
	admit := func(id, user, guild string, age time.Duration) {
		t.Helper()
		j := gateJob(id, user, guild)
		j.InteractionAt = base.Add(-age)
		mustAdmit(t, s, base, j, l)
	}
	admit("a", "u1", "g1", 30*time.Second)
	admit("b", "u2", "g1", 50*time.Second) // runs, and is older than a
	admit("c", "u1", "g1", 10*time.Second)
	admit("d", "u3", "g2", 10*time.Second)
	admit("e", "u2", "g1", 10*time.Second)
	admit("f", "u1", "", 10*time.Second)
	check := func(call string, got []storage.ActiveJob, err error, want []string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s = %v", call, err)
		}
		if !cmp.Equal(summary(got), want) {
			t.Errorf("%s = %v; want %v", call, summary(got), want)
		}
		checkJobs(t, s, call, got)
	}
	jobs, err := s.GuildJobs(t.Context(), "g1")
	check("GuildJobs(g1)", jobs, err, []string{"b:run/0", "a:run/0", "c:q1/1", "e:q3/3"})
	jobs, err = s.UserJobs(t.Context(), "u1")
	check("UserJobs(u1)", jobs, err, []string{"a:run/0", "c:q1/1", "f:q4/4"})
	jobs, err = s.GuildJobs(t.Context(), "g9")
	check("GuildJobs(g9)", jobs, err, []string{})
	jobs, err = s.UserJobs(t.Context(), "nobody")
	check("UserJobs(nobody)", jobs, err, []string{})

	mustFinish(t, s, "b", true)
	mustPromote(t, s, base, l)
	// c runs now; e moved up, its reply still shows 3.
	jobs, err = s.GuildJobs(t.Context(), "g1")
	check("GuildJobs(g1) after a promotion", jobs, err, []string{"a:run/0", "c:run/1", "e:q2/3"})
}

func testUsage(t *testing.T, open Backend) {
	s := open(t)
	l := storage.Limits{UserCooldown: time.Minute}
	mustUpdate(t, s, "g2", func(gs *storage.GuildSettings) { gs.Overrides.UserCooldown = ptr(10 * time.Minute) })
	mustAdmit(t, s, base, gateJob("a", "u1", "g1"), l)
	mustAdmit(t, s, base, gateJob("b", "u2", "g1"), l)
	mustAdmit(t, s, base.Add(2*time.Minute), gateJob("c", "u1", ""), l)
	mustAdmitFull(t, s, base, gateJob("d", "u3", "g2"), l)
	for _, tt := range []struct {
		at          time.Time
		user, guild string
		want        storage.Usage
	}{
		{base.Add(2*time.Minute + time.Second), "u1", "g1", storage.Usage{UserToday: 2, GuildToday: 2, BotToday: 4, CooldownUntil: base.Add(3 * time.Minute)}},
		{base.Add(3 * time.Minute), "u1", "", storage.Usage{UserToday: 2, BotToday: 4}},
		{base.Add(time.Second), "u2", "g1", storage.Usage{UserToday: 1, GuildToday: 2, BotToday: 4, CooldownUntil: base.Add(time.Minute)}},
		{base.Add(time.Minute), "u3", "g2", storage.Usage{UserToday: 1, GuildToday: 1, BotToday: 4, CooldownUntil: base.Add(10 * time.Minute)}},
		{base, "nobody", "g9", storage.Usage{BotToday: 4}},
		{midnight, "u1", "g1", storage.Usage{}},
	} {
		if got := mustUsage(t, s, tt.at, tt.user, tt.guild); got != tt.want {
			t.Errorf("Usage(base+%v, %q, %q) = %+v; want %+v", tt.at.Sub(base), tt.user, tt.guild, got, tt.want)
		}
	}
}

func testQueue(t *testing.T, open Backend) {
	s := open(t)
	l := storage.Limits{MaxRunning: 1}
	if got, err := s.Queue(t.Context(), 0); err != nil || len(got) != 0 {
		t.Errorf("Queue(0) of an empty store = %v, %v; want nothing", summary(got), err)
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		mustAdmit(t, s, base, gateJob(id, "u-"+id, "g1"), l)
	}
	for _, tt := range []struct {
		limit int
		want  []string
	}{
		{0, []string{"b:q1/1", "c:q2/2", "d:q3/3"}},
		{2, []string{"b:q1/1", "c:q2/2"}},
		{10, []string{"b:q1/1", "c:q2/2", "d:q3/3"}},
	} {
		got, err := s.Queue(t.Context(), tt.limit)
		if err != nil || !cmp.Equal(summary(got), tt.want) {
			t.Errorf("Queue(%d) = %v, %v; want %v", tt.limit, summary(got), err, tt.want)
		}
		checkJobs(t, s, fmt.Sprintf("Queue(%d)", tt.limit), got)
	}
	mustFinish(t, s, "a", true)
	mustPromote(t, s, base, l)
	if got, err := s.Queue(t.Context(), 0); err != nil || !cmp.Equal(summary(got), []string{"c:q1/2", "d:q2/3"}) {
		t.Errorf("Queue(0) after a promotion = %v, %v; want [c:q1/2 d:q2/3]", summary(got), err)
	}
}

func testClaimPositionEdit(t *testing.T, open Backend) {
	s := open(t)
	l := storage.Limits{MaxRunning: 1}
	for _, id := range []string{"a", "b", "c", "d"} {
		mustAdmit(t, s, base, gateJob(id, "u-"+id, "g1"), l)
	}
	claim := func(at time.Duration, id string, position int, every time.Duration, want bool) {
		t.Helper()
		got, err := s.ClaimPositionEdit(t.Context(), base.Add(at), id, position, every)
		if err != nil || got != want {
			t.Errorf("ClaimPositionEdit(base+%v, %s, %d, %v) = %v, %v; want %v", at, id, position, every, got, err, want)
		}
	}
	claim(time.Hour, "d", 3, 0, false) // the place its reply shows
	mustFinish(t, s, "a", true)
	mustPromote(t, s, base, l)
	claim(0, "c", 1, 0, true)
	claim(0, "c", 1, 0, false) // claimed already
	claim(5*time.Second, "d", 2, 10*time.Second, false)
	claim(10*time.Second, "d", 2, 10*time.Second, true)
	claim(15*time.Second, "d", 1, 10*time.Second, false)
	claim(20*time.Second, "d", 1, 10*time.Second, true)
	if got, err := s.Queue(t.Context(), 0); err != nil || !cmp.Equal(summary(got), []string{"c:q1/1", "d:q2/1"}) {
		t.Errorf("Queue(0) = %v, %v; want [c:q1/1 d:q2/1], the claimed places shown", summary(got), err)
	}
	claim(time.Hour, "b", 5, 0, false) // runs
	claim(time.Hour, "nope", 5, 0, false)
	mustCancel(t, s, base, "d")
	claim(time.Hour, "d", 5, 0, false)
}

// PositionEditRace has callers goroutines, spread over stores (which share
// one backend), claim the edit of one queued job's new place at once:
// exactly one gets true, and none until every has passed since.
func PositionEditRace(t *testing.T, stores []GuildStore, callers int) {
	t.Helper()
	l := storage.Limits{MaxRunning: 1}
	mustAdmit(t, stores[0], base, gateJob("a", "u1", "g1"), l)
	mustAdmit(t, stores[0], base, gateJob("b", "u2", "g1"), l)
	race := func(at time.Time, position int) int {
		var wg sync.WaitGroup
		var won atomic.Int32
		start := make(chan struct{})
		for c := range callers {
			s := stores[c%len(stores)]
			wg.Go(func() {
				<-start
				ok, err := s.ClaimPositionEdit(t.Context(), at, "b", position, time.Minute)
				if err != nil {
					t.Errorf("ClaimPositionEdit = %v", err)
				}
				if ok {
					won.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		return int(won.Load())
	}
	for _, tt := range []struct {
		at       time.Time
		position int
		want     int
	}{
		{base.Add(time.Minute), 7, 1},
		{base.Add(time.Minute), 8, 0}, // shown a moment ago
		{base.Add(2 * time.Minute), 8, 1},
		{base.Add(3 * time.Minute), 8, 0}, // unchanged
	} {
		if got := race(tt.at, tt.position); got != tt.want {
			t.Errorf("%d concurrent ClaimPositionEdit(base+%v, b, %d, 1m) returned true %d times; want %d",
				callers, tt.at.Sub(base), tt.position, got, tt.want)
		}
	}
}
