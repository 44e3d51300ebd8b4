package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/internal/testkit"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/storage/storagetest"
	"github.com/songbot-dev/songbot/whisul"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

const whisulKey = "wk-test-3f9a7c1e-secret"

// harness runs real bots against a fake Discord, a fake Whisul and a real
// Redis.
type harness struct {
	t       testing.TB
	discord *discordtest.Server
	whisul  *whisultest.Server
	store   *storage.Redis // the first bot's store
	prefix  string
	// redisURL, when set, is the Redis the bots use instead of the shared
	// test server: a private one an outage test stops.
	redisURL string
	// boltPath, when set, makes each bot open the embedded store at that
	// path instead of Redis; stopping the bot closes it, so the next one
	// started is a restart on the same file. See newEmbeddedHarness.
	boltPath string
	logs     *testkit.Buffer
	opts     bot.Options

	mu      sync.Mutex
	done    map[string]string // job id -> outcome, from OnJobDone
	changed testkit.Signal    // notified on every OnJobDone
}

// running is one bot process, stopped by cancel.
type running struct {
	cancel context.CancelFunc
	done   chan error
	store  *storage.Redis // nil on the embedded store
}

func newHarness(t testing.TB, tweak func(*bot.Options)) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		discord: discordtest.NewServer(t),
		whisul:  whisultest.NewServer(t, whisulKey),
		prefix:  storagetest.Prefix(t),
		logs:    &testkit.Buffer{},
		done:    map[string]string{},
	}
	h.opts = bot.Options{
		Token:           h.discord.Token,
		APIURL:          h.discord.URL,
		PollInterval:    20 * time.Millisecond,
		JobTimeout:      time.Minute,
		PromptMaxLength: 200,
		Lease:           2 * time.Second,
		ShutdownGrace:   5 * time.Second,
		Logger:          slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnJobDone:       h.jobDone,
	}
	if tweak != nil {
		tweak(&h.opts)
	}
	storagetest.DeleteKeysAtCleanup(t, h.prefix)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot logs:\n%s", h.logs.String())
		}
	})
	return h
}

// newEmbeddedHarness is newHarness with every bot on one embedded store
// file, as a bot without REDIS_URL runs: one process at a time.
func newEmbeddedHarness(t testing.TB, tweak func(*bot.Options)) *harness {
	t.Helper()
	h := newHarness(t, tweak)
	h.boltPath = filepath.Join(t.TempDir(), "songbot.db")
	return h
}

// newStore opens a Store on the test Redis under the harness's prefix, so
// every bot of the harness shares the same jobs.
func (h *harness) newStore() *storage.Redis {
	h.t.Helper()
	url := h.redisURL
	if url == "" {
		url = storagetest.RedisURL(h.t)
	}
	s, err := storage.OpenRedis(h.t.Context(), url, storage.RedisOptions{Prefix: h.prefix, JobTTL: time.Hour})
	if err != nil {
		h.t.Fatalf("OpenRedis() = %v", err)
	}
	h.t.Cleanup(func() { s.Close() })
	return s
}

func (h *harness) newWhisul(key string) *whisul.Client {
	h.t.Helper()
	c, err := whisul.New(whisul.Options{BaseURL: h.whisul.URL, APIKey: key, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		h.t.Fatalf("whisul.New() = %v", err)
	}
	return c
}

// start runs one bot and waits until it registered its commands.
func (h *harness) start() *running {
	h.t.Helper()
	return h.startWith(nil)
}

// startWith is start with tweak applied to this bot's options only.
func (h *harness) startWith(tweak func(*bot.Options)) *running {
	h.t.Helper()
	opts := h.opts
	if tweak != nil {
		tweak(&opts)
	}
	var store *storage.Redis
	var closeStore func() error
	if h.boltPath != "" {
		b, err := storage.OpenBolt(h.boltPath, storage.BoltOptions{})
		if err != nil {
			h.t.Fatalf("OpenBolt() = %v", err)
		}
		opts.Store, closeStore = b, b.Close
	} else {
		store = h.newStore() // a new process opens its own connection
		opts.Store = store
		if h.store == nil {
			h.store = store
		}
	}
	if opts.Whisul == nil {
		opts.Whisul = h.newWhisul(whisulKey)
	}
	b, err := bot.New(opts)
	if err != nil {
		h.t.Fatalf("bot.New() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), store: store}
	go func() {
		err := b.Run(ctx)
		if closeStore != nil {
			err = errors.Join(err, closeStore())
		}
		r.done <- err
	}()
	h.t.Cleanup(func() { r.stop(h.t) })
	select {
	case <-b.Started():
	case err := <-r.done:
		h.t.Fatalf("Run() = %v before the bot started", err)
	case <-time.After(20 * time.Second):
		h.t.Fatal("the bot did not start within 20s")
	}
	return r
}

// stop cancels the bot and waits for Run to return.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of cancellation")
		return nil
	}
}

// wait blocks until cond holds, re-checking on every fake Discord or Whisul
// event.
func (h *harness) wait(what string, cond func() bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), 20*time.Second)
	defer cancel()
	// The three waiters below call cond concurrently; serialise it.
	var mu sync.Mutex
	check := cond
	cond = func() bool {
		mu.Lock()
		defer mu.Unlock()
		return check()
	}
	errs := make(chan error, 3)
	go func() { errs <- h.discord.Wait(ctx, cond) }()
	go func() { errs <- h.whisul.Wait(ctx, cond) }()
	go func() { errs <- h.waitDone(ctx, cond) }()
	if err := <-errs; err != nil || !cond() {
		h.t.Fatalf("timed out waiting for %s", what)
	}
	cancel()
	<-errs
	<-errs
}

func (h *harness) jobDone(id string, outcome bot.JobOutcome) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done[id] = string(outcome)
	h.changed.Notify()
}

// outcome is how the job ended, "" while it has not.
func (h *harness) outcome(id string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.done[id]
}

func (h *harness) waitDone(ctx context.Context, cond func() bool) error {
	return h.changed.Wait(ctx, cond)
}

// song sends /song and returns the interaction.
func (h *harness) song(c discordtest.SongCommand) discordtest.Interaction {
	h.t.Helper()
	in, err := h.discord.SendCommand(h.t.Context(), "song", c)
	if err != nil {
		h.t.Fatalf("SendCommand(song, %q) = %v", c.Prompt, err)
	}
	return in
}

// finalReply waits until the interaction's job has ended and returns the
// reply as it was left.
func (h *harness) finalReply(in discordtest.Interaction) discordtest.Message {
	h.t.Helper()
	h.wait("the final reply of "+in.ID, func() bool { return h.outcome(in.ID) != "" })
	m, ok := h.discord.Original(in.Token)
	if !ok {
		h.t.Fatalf("interaction %s has no reply", in.ID)
	}
	return m
}

// embed decodes the message's first embed.
func embed(t *testing.T, m discordtest.Message) map[string]any {
	t.Helper()
	if len(m.Embeds) == 0 {
		t.Fatalf("message has no embed; content %q", m.Content)
	}
	var e map[string]any
	if err := json.Unmarshal(m.Embeds[0], &e); err != nil {
		t.Fatalf("decode embed: %v", err)
	}
	return e
}

// mentions summarises an allowed_mentions object; a missing one allows
// Discord's default, which pings users.
func mentions(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if raw == nil {
		return "missing"
	}
	var am struct {
		Parse *[]string `json:"parse"`
		Users []string  `json:"users"`
		Roles []string  `json:"roles"`
	}
	if err := json.Unmarshal(raw, &am); err != nil {
		t.Fatalf("decode allowed_mentions %s: %v", raw, err)
	}
	if am.Parse == nil {
		return "no parse list: " + string(raw)
	}
	return fmt.Sprintf("parse=%v users=%v roles=%v", *am.Parse, am.Users, am.Roles)
}
