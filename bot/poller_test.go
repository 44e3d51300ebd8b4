package bot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// queueFor is a fakeQueue that records what poll writes back and removes.
type queueFor struct {
	saved    []storage.Job
	finished []string
	removed  bool // what Finish reports
}

func (q *queueFor) fake() fakeQueue {
	return fakeQueue{
		RescheduleManyFn: eachJob(func(job storage.Job) error { q.saved = append(q.saved, job); return nil }),
		FinishFn:         func(id string) (bool, error) { q.finished = append(q.finished, id); return q.removed, nil },
	}
}

func TestPoll(t *testing.T) {
	t.Parallel()
	result := &whisul.Result{Title: "Rainy Night", DurationText: "2:47", BPM: 80, Tags: []string{"lo-fi"}}
	tests := []struct {
		name      string
		job       whisul.Job
		err       error
		want      JobOutcome // "" while the song runs
		wantEdit  string     // in the final reply's text; "" for the song embed
		wantSaved int        // songs kept for /songs
	}{
		{"running", whisul.Job{Status: whisul.StatusRunning, RawStatus: "processing"}, nil, "", "", 0},
		{"completed", whisul.Job{Status: whisul.StatusCompleted, RawStatus: "completed", Result: result}, nil, JobCompleted, "", 1},
		{"failed", whisul.Job{Status: whisul.StatusFailed, RawStatus: "failed", Error: "vocals unavailable"}, nil, JobFailed, "It said: vocals unavailable", 0},
		{"not found", whisul.Job{}, &whisul.APIError{Op: "job", StatusCode: 404}, JobNotFound, "lost track of your song", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := time.Now()
			q := &queueFor{removed: true}
			var kept []storage.Song
			store := fakeStore{fakeQueue: q.fake(), fakeHistory: fakeHistory{AddSongFn: func(s storage.Song, _ time.Duration) error {
				kept = append(kept, s)
				return nil
			}}}
			var polled []string
			w := fakeWhisul{JobFn: func(id, pollURL string) (whisul.Job, error) {
				polled = append(polled, id)
				return tt.job, tt.err
			}}
			d := &fakeDiscord{}
			var done []JobOutcome
			b := newTestBot(t, Options{OnJobDone: func(_ string, o JobOutcome) { done = append(done, o) }}, d, store, w)
			job := pendingJob(now, "u1", false)

			b.poll(t.Context(), job)
			b.states.wait() // a reschedule is flushed after the poll returns

			if !slices.Equal(polled, []string{"w1"}) {
				t.Fatalf("Whisul polled %v; want [w1]", polled)
			}
			if tt.want == "" {
				if len(q.saved) != 1 || q.saved[0].LastStatus != "processing" || !q.saved[0].NextPollAt.After(now) {
					t.Errorf("rescheduled %+v; want the job once, with its status, due after now", q.saved)
				}
				if len(q.finished) != 0 || len(d.Calls()) != 0 {
					t.Errorf("Finish(%v), Discord calls %v for a running song; want none", q.finished, d.Calls())
				}
				return
			}
			if !slices.Equal(q.finished, []string{job.ID}) || !slices.Equal(done, []JobOutcome{tt.want}) {
				t.Errorf("Finish(%v), OnJobDone(%v); want the job finished once as %s", q.finished, done, tt.want)
			}
			e := d.Edits()
			if len(e) != 1 {
				t.Fatalf("edits = %+v; want the final reply once", e)
			}
			if tt.wantEdit == "" && e[0].embeds != 1 {
				t.Errorf("final reply = %q with %d embeds; want the song's embed", e[0].content, e[0].embeds)
			}
			if tt.wantEdit != "" && (e[0].embeds != 0 || !strings.Contains(e[0].content, tt.wantEdit)) {
				t.Errorf("final reply = %q with %d embeds; want text containing %q", e[0].content, e[0].embeds, tt.wantEdit)
			}
			if len(kept) != tt.wantSaved {
				t.Errorf("songs kept for /songs = %d; want %d", len(kept), tt.wantSaved)
			}
		})
	}
}

func TestExpiredTokenFallsBack(t *testing.T) {
	t.Parallel()
	forbidden := restError(403, 50001)
	tests := []struct {
		name      string
		private   bool
		age       time.Duration // of the interaction at delivery
		sendErr   map[string]error
		wantCalls []string
		want      FallbackPlace
	}{
		{"to the channel", false, time.Minute, nil, []string{"edit", "send chan1"}, FallbackChannel},
		{"to a DM when the channel is closed", false, time.Minute, map[string]error{"chan1": forbidden}, []string{"edit", "send chan1", "dm u1", "send dm-u1"}, FallbackDM},
		{"lost when neither works", false, time.Minute, map[string]error{"chan1": forbidden, "dm-u1": forbidden}, []string{"edit", "send chan1", "dm u1", "send dm-u1"}, FallbackLost},
		{"private song to a DM only", true, time.Minute, nil, []string{"edit", "dm u1", "send dm-u1"}, FallbackDM},
		{"token too old to try the edit", false, 14*time.Minute + 50*time.Second, nil, []string{"send chan1"}, FallbackChannel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := time.Now()
			q := &queueFor{removed: true}
			d := &fakeDiscord{
				EditReplyFn: func(string, string, *discordgo.WebhookEdit) error { return restError(401, 50027) },
				SendFn:      func(channelID string, _ *discordgo.MessageSend) error { return tt.sendErr[channelID] },
			}
			m := &fakeMetrics{}
			b := newTestBot(t, Options{Metrics: m}, d, fakeStore{fakeQueue: q.fake()}, fakeWhisul{})
			job := pendingJob(now, "u1", tt.private)
			job.InteractionAt = now.Add(-tt.age)

			b.deliver(t.Context(), job, failedDelivery("vocals unavailable"))

			if got := d.Calls(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("Discord calls = %v; want %v", got, tt.wantCalls)
			}
			if !slices.Equal(m.fallbacks, []FallbackPlace{tt.want}) {
				t.Errorf("fallbacks counted = %v; want [%s]", m.fallbacks, tt.want)
			}
			if tt.want == FallbackLost {
				return
			}
			sent := d.Sent()
			if len(sent) != 1 {
				t.Fatalf("messages sent = %d; want 1", len(sent))
			}
			msg := sent[0].msg
			if !strings.HasPrefix(msg.Content, "<@u1>, about your `/song`:\n") || !strings.Contains(msg.Content, "vocals unavailable") {
				t.Errorf("fallback = %q; want the requester mentioned and the outcome", msg.Content)
			}
			if am := msg.AllowedMentions; am == nil || len(am.Parse) != 0 || !slices.Equal(am.Users, []string{"u1"}) {
				t.Errorf("fallback allowed_mentions = %+v; want only the requester", am)
			}
		})
	}
}

func TestDeliveredOnceWhenFinishReportsFalse(t *testing.T) {
	t.Parallel()
	q := &queueFor{removed: false} // another process removed the job first
	d := &fakeDiscord{EditReplyFn: func(string, string, *discordgo.WebhookEdit) error { return restError(401, 50027) }}
	m := &fakeMetrics{}
	var done []JobOutcome
	b := newTestBot(t, Options{Metrics: m, OnJobDone: func(_ string, o JobOutcome) { done = append(done, o) }}, d, fakeStore{fakeQueue: q.fake()}, fakeWhisul{})
	job := pendingJob(time.Now(), "u1", false)

	b.deliver(t.Context(), job, timedOutDelivery())

	if got := d.Calls(); !slices.Equal(got, []string{"edit"}) {
		t.Errorf("Discord calls = %v; want the idempotent edit only, no fallback message", got)
	}
	if len(q.finished) != 1 || len(done) != 0 || len(m.jobs) != 0 {
		t.Errorf("Finish calls %d, OnJobDone %v, jobs counted %v; want one Finish and nothing reported", len(q.finished), done, m.jobs)
	}
}

func TestDeliveryByAnotherProcessIsLeftAlone(t *testing.T) {
	t.Parallel()
	// The job is gone before the delivery holds it: nothing is sent.
	store := fakeStore{fakeQueue: fakeQueue{ExtendFn: func(ids []string) ([]string, error) { return ids, nil }}}
	d := &fakeDiscord{}
	b := newTestBot(t, Options{}, d, store, fakeWhisul{})
	b.deliver(t.Context(), pendingJob(time.Now(), "u1", false), timedOutDelivery())
	if got := d.Calls(); len(got) != 0 {
		t.Errorf("Discord calls = %v; want none", got)
	}
}

func TestAudioRefusedByDiscordSendsTheLinkAlone(t *testing.T) {
	t.Parallel()
	cdn := &http.Client{Transport: roundTrip(func(*http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: 200, Header: http.Header{"Content-Type": {"audio/mpeg"}},
			Body: io.NopCloser(bytes.NewReader(append([]byte("ID3"), make([]byte, 1024)...))), ContentLength: 1027,
		}, nil
	})}
	q := &queueFor{removed: true}
	d := &fakeDiscord{EditReplyFn: func(_, _ string, e *discordgo.WebhookEdit) error {
		if len(e.Files) > 0 {
			return restError(413, 40005)
		}
		return nil
	}}
	b := newTestBot(t, Options{AudioClient: cdn}, d, fakeStore{fakeQueue: q.fake(), fakeHistory: keepsSongs()}, fakeWhisul{})
	job := pendingJob(time.Now(), "u1", false)

	b.deliver(t.Context(), job, songDelivery(job, &whisul.Result{Title: "Loud", SongURL: "https://cdn.example/a.mp3"}))

	e := d.Edits()
	if len(e) != 2 || e[0].files != 1 || e[1].files != 0 || e[1].embeds != 1 {
		t.Fatalf("edits = %+v; want one with the audio, then the song with the link alone", e)
	}
	if len(d.Sent()) != 0 {
		t.Errorf("sent %d fallback messages; want the reply edited", len(d.Sent()))
	}
}

func TestPutBackAtShutdownIsDueAtOnce(t *testing.T) {
	t.Parallel()
	q := &queueFor{}
	b := newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{fakeQueue: q.fake()}, fakeWhisul{})
	b.stop() // shutdown cancelled the work
	before := time.Now()
	b.putBack(pendingJob(before, "u1", false))
	b.states.wait()
	if len(q.saved) != 1 || q.saved[0].NextPollAt.After(time.Now()) {
		t.Errorf("put back %+v; want the job due at once for the next process", q.saved)
	}
}

// roundTrip is an http.RoundTripper as a function.
// TestDeliveryKeepsTheSongBeforeShowingIt: the song goes into the
// history before the reply shows its Regenerate button, and only when
// the delivery still holds the job.
func TestDeliveryKeepsTheSongBeforeShowingIt(t *testing.T) {
	t.Parallel()
	for _, lost := range []bool{false, true} {
		var mu sync.Mutex
		var order []string
		note := func(s string) {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, s)
		}
		history := fakeHistory{AddSongFn: func(storage.Song, time.Duration) error {
			note("kept")
			return nil
		}}
		d := &fakeDiscord{EditReplyFn: func(_, _ string, e *discordgo.WebhookEdit) error {
			note("edit")
			return nil
		}}
		q := &queueFor{removed: true}
		fq := q.fake()
		fq.ExtendFn = func(ids []string) ([]string, error) {
			if lost {
				return ids, nil
			}
			return nil, nil
		}
		b := newTestBot(t, Options{}, d, fakeStore{fakeQueue: fq, fakeHistory: history}, fakeWhisul{})
		job := pendingJob(time.Now(), "u1", false)
		b.deliver(t.Context(), job, songDelivery(job, &whisul.Result{Title: "T"}))
		want := []string{"kept", "edit"}
		if lost {
			want = nil
		}
		if !slices.Equal(order, want) {
			t.Errorf("with the lease lost %t: order = %v; want %v", lost, order, want)
		}
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// loopStore is a store with due jobs without end, for the poll loop: it
// records the limit of each Claim and counts the polls.
type loopStore struct {
	mu      sync.Mutex
	limits  []int
	claimed int
	polls   int
}

func (s *loopStore) fakes() (fakeStore, fakeWhisul) {
	store := fakeStore{
		fakeQueue: fakeQueue{
			ClaimFn: func(now time.Time, _ time.Duration, limit int) ([]storage.Job, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.limits = append(s.limits, limit)
				jobs := make([]storage.Job, limit)
				for i := range jobs {
					jobs[i] = pendingJob(now, "u1", false)
					jobs[i].ID = fmt.Sprint("job", s.claimed)
					s.claimed++
				}
				return jobs, nil
			},
			RescheduleManyFn: eachJob(func(storage.Job) error { return nil }),
		},
		fakeGate: fakeGate{PromoteFn: func(time.Time, storage.Limits) ([]string, error) { return nil, nil }},
	}
	w := fakeWhisul{JobFn: func(string, string) (whisul.Job, error) {
		s.mu.Lock()
		s.polls++
		s.mu.Unlock()
		return whisul.Job{Status: whisul.StatusRunning, RawStatus: "running"}, nil
	}}
	return store, w
}

// runLoop runs b's poll loop for d, then stops its work as shutdown does.
func runLoop(t *testing.T, b *Bot, d time.Duration) {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	b.pollLoop(ctx)
	b.stop()
	b.work.Wait()
}

// While the limiter paces, the loop claims only what it lets go within
// sendHorizon, so due jobs wait in the store, not leased in a queue.
func TestPollLoopClaimsWhatTheLimiterSendsSoon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rps = 20
		s := &loopStore{}
		store, w := s.fakes()
		b := newTestBot(t, Options{WhisulMaxRPS: rps, PollInterval: 5 * time.Second}, &fakeDiscord{}, store, w)
		runLoop(t, b, 10*time.Second)

		most := int(math.Ceil(rps * sendHorizon.Seconds()))
		if m := slices.Max(s.limits); m > most {
			t.Errorf("largest Claim limit = %d; want at most %d (%d/s for %v)", m, most, rps, sendHorizon)
		}
		if s.polls < 9*rps || s.polls > 10*rps+1 {
			t.Errorf("%d polls in 10s at %d/s; want about %d", s.polls, rps, 10*rps)
		}
		if unsent := s.claimed - s.polls; unsent > most {
			t.Errorf("%d jobs claimed but never polled; want at most %d", unsent, most)
		}
	})
}

// During a 429's pause the loop claims nothing: another process may poll
// the due jobs meanwhile.
func TestPollLoopClaimsNothingWhilePaused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &loopStore{}
		store, w := s.fakes()
		b := newTestBot(t, Options{WhisulMaxRPS: 20, PollInterval: 5 * time.Second}, &fakeDiscord{}, store, w)
		refuse(b.limiter, limitedMin, 3*time.Second)
		runLoop(t, b, 2*time.Second)
		if s.claimed != 0 {
			t.Errorf("claimed %d jobs (limits %v) during a 3s pause; want none", s.claimed, s.limits)
		}
	})
}
