package bot

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// use locks and releases token's bucket as one request would.
func use(tb *tokenBuckets, token string) {
	b, done := tb.lock(token)
	b.Release(nil)
	done()
}

// useLimited is use for a request whose answer told the token to wait an
// hour (X-RateLimit-Remaining 0).
func useLimited(tb *tokenBuckets, token string) {
	b, done := tb.lock(token)
	b.Release(http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset-After": {"3600"}})
	done()
}

func TestTokenBucketsDropABucketWithNothingToWaitFor(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	tb := newTokenBuckets(clock.now, tokenLifetime)
	use(tb, "a")
	use(tb, "b")
	if got := tb.size(); got != 0 {
		t.Errorf("size() = %d after two requests Discord did not limit; want 0", got)
	}
	useLimited(tb, "c")
	if got := tb.size(); got != 1 {
		t.Errorf("size() = %d after a request Discord limited; want 1, kept for the wait", got)
	}
}

func TestTokenBucketsEvictIdleTokens(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	tb := newTokenBuckets(clock.now, tokenLifetime)
	useLimited(tb, "a")
	clock.add(10 * time.Minute)
	useLimited(tb, "b")
	if got := tb.size(); got != 2 {
		t.Fatalf("size() = %d after two limited tokens; want 2", got)
	}
	clock.add(6 * time.Minute)
	useLimited(tb, "c") // sweeps
	if got := tb.size(); got != 2 {
		t.Errorf("size() = %d 16 minutes after a was last used; want 2 (b, c)", got)
	}
	clock.add(tokenLifetime + sweepEvery)
	useLimited(tb, "d")
	if got := tb.size(); got != 1 {
		t.Errorf("size() = %d once every other token is past its lifetime; want 1", got)
	}
}

func TestTokenBucketsKeepABucketInUse(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	tb := newTokenBuckets(clock.now, tokenLifetime)
	b, done := tb.lock("slow")
	clock.add(time.Hour)
	use(tb, "other") // sweeps
	if got := tb.size(); got != 1 {
		t.Errorf("size() = %d while a request holds its bucket; want 1, the bucket in use", got)
	}
	b.Release(nil)
	done()
	if got := tb.size(); got != 0 {
		t.Errorf("size() = %d once the request is done; want 0", got)
	}
}

// BenchmarkTokenBuckets10kInteractions measures the registry's memory over
// 10,000 interactions, one a second, none limited by Discord: the heap
// after them is what stays, reported with the registry's size. discordgo's own
// Session.Ratelimiter is never used for these requests (sessionAPI routes
// them here), so its bucket count does not grow with interactions.
func BenchmarkTokenBuckets10kInteractions(b *testing.B) {
	for b.Loop() {
		clock := &fakeClock{t: time.Unix(1e9, 0)}
		tb := newTokenBuckets(clock.now, tokenLifetime)
		for i := range 10_000 {
			use(tb, fmt.Sprintf("token-%d", i))
			use(tb, fmt.Sprintf("token-%d", i)) // the edit after the callback
			clock.add(time.Second)              // one interaction a second: ~900 live
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(tb.size()), "buckets")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heapMiB")
	}
}

// TestInteractionRequestsLeaveTheSessionLimiterAlone sends 10,000
// interactions' callbacks and edits through sessionAPI and checks, by
// behaviour, that discordgo's Session.Ratelimiter made no bucket for any
// of them: a bucket it made and used has Remaining 0 (the server sends no
// rate-limit headers), a new one Remaining 1; and that the bot's own
// buckets are gone once their requests are done.
func TestInteractionRequestsLeaveTheSessionLimiterAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 loopback requests")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	s, err := NewSession("tok", srv.URL, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	api := sessionAPI{s: s, buckets: newTokenBuckets(clock.now, tokenLifetime)}
	const n = 10_000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		id, token := strconv.Itoa(1_000_000+i), "token-"+strconv.Itoa(i)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx := t.Context()
			in := &discordgo.Interaction{ID: id, Token: token}
			if err := api.Respond(ctx, in, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
				t.Errorf("Respond() = %v", err)
			}
			content := "done"
			if err := api.EditReply(ctx, "app", token, &discordgo.WebhookEdit{Content: &content}); err != nil {
				t.Errorf("EditReply() = %v", err)
			}
		})
	}
	wg.Wait()
	for _, i := range []int{0, n / 2, n - 1} {
		token := "token-" + strconv.Itoa(i)
		for _, key := range []string{
			discordgo.EndpointInteractionResponse(strconv.Itoa(1_000_000+i), token),
			discordgo.EndpointWebhookMessage("app", token, "@original"),
			discordgo.EndpointWebhookToken("app", token),
			discordgo.EndpointWebhookToken("", ""),
		} {
			if b := s.Ratelimiter.GetBucket(key); b.Remaining != 1 {
				t.Errorf("the session's limiter has a used bucket for an interaction URL (Remaining %d)", b.Remaining)
			}
		}
	}
	if got := api.buckets.size(); got != 0 {
		t.Errorf("the bot holds %d buckets after %d interactions Discord did not limit; want 0", got, n)
	}
}
