package e2e_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestFailuresAreExplainedInPlainWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script whisultest.Script
		setup  func(h *harness)
		want   string
	}{
		{"failed job with its error", whisultest.Script{Fail: true, ErrorText: "vocals unavailable"}, nil, "vocals unavailable"},
		{"failed job without error", whisultest.Script{Fail: true}, nil, "couldn't make this song"},
		{"job lost", whisultest.Script{NotFound: true}, nil, "lost track"},
		{"prompt rejected", whisultest.Script{}, func(h *harness) { h.whisul.FailGenerate(1, 400, "") }, "didn't accept"},
		{"rate limited at submission, then submitted", whisultest.Script{}, func(h *harness) { h.whisul.FailGenerate(6, 429, "0") }, ""},
		{"server errors then success", whisultest.Script{ServerErrors: 3}, nil, ""},
		{"rate limited polls then success", whisultest.Script{RateLimited: 2, RetryAfter: "0"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.whisul.SetDefault(tt.script)
			if tt.setup != nil {
				tt.setup(h)
			}
			h.start()
			m := h.finalReply(h.song(discordtest.SongCommand{Prompt: "a trap song"}))
			if tt.want == "" {
				embed(t, m)
				return
			}
			if len(m.Embeds) != 0 || !strings.Contains(m.Content, tt.want) {
				t.Errorf("final reply = %q (%d embeds); want text containing %q", m.Content, len(m.Embeds), tt.want)
			}
		})
	}
}

func TestBadWhisulKeySaysMisconfigured(t *testing.T) {
	t.Parallel()
	const wrongKey = "wk-wrong-key-7d1e"
	h := newHarness(t, nil)
	h.opts.Whisul = h.newWhisul(wrongKey)
	h.start()
	m := h.finalReply(h.song(discordtest.SongCommand{Prompt: "a trap song"}))
	if !strings.Contains(m.Content, "misconfigured") {
		t.Errorf("reply = %q; want it to say the bot is misconfigured", m.Content)
	}
	for _, r := range h.discord.Requests() {
		if strings.Contains(string(r.Body), wrongKey) {
			t.Errorf("%s %s carries the key", r.Method, r.Path)
		}
	}
	if strings.Contains(h.logs.String(), wrongKey) {
		t.Error("the logs contain the key")
	}
}

func TestJobTimeoutTellsTheUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) { o.JobTimeout = 300 * time.Millisecond })
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	h.start()
	in := h.song(discordtest.SongCommand{Prompt: "an endless song"})
	h.wait("the job to end", func() bool { return h.outcome(in.ID) != "" })
	if got := h.outcome(in.ID); got != "timed_out" {
		t.Errorf("outcome = %q; want timed_out", got)
	}
	if m, _ := h.discord.Original(in.Token); !strings.Contains(m.Content, "too long") {
		t.Errorf("reply = %q; want the timeout explained", m.Content)
	}
	if n, _ := h.store.Count(t.Context()); n != 0 {
		t.Errorf("store holds %d jobs after the timeout; want 0", n)
	}
	if h.whisul.Count("GET", "/api/jobs/") == 0 {
		t.Error("the job was never polled before timing out")
	}
}

func TestExpiredTokenFallsBackToChannelThenDM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		forbid    bool
		wantInDMs bool
	}{
		{"channel message", false, false},
		{"DM when the channel is closed to the bot", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.whisul.SetDefault(whisultest.Script{Polls: 3})
			h.start()
			in := h.song(discordtest.SongCommand{Prompt: "a song that outlives its token", UserID: "555000111"})
			h.wait("the composing message", func() bool {
				m, ok := h.discord.Original(in.Token)
				return ok && strings.Contains(m.Content, "Composing")
			})
			h.discord.ExpireToken(in.Token)
			if tt.forbid {
				h.discord.ForbidChannel(in.ChannelID)
			}
			var msgs []discordtest.Message
			h.wait("the fallback message", func() bool {
				if tt.wantInDMs {
					msgs = h.discord.ChannelMessages(h.discord.DMChannel("555000111"))
				} else {
					msgs = h.discord.ChannelMessages(in.ChannelID)
				}
				return len(msgs) > 0
			})
			m := msgs[0]
			if !strings.Contains(m.Content, "<@555000111>") || len(m.Embeds) == 0 {
				t.Errorf("fallback = %q with %d embeds; want a mention of the requester and the song", m.Content, len(m.Embeds))
			}
			if got := mentions(t, m.AllowedMentions); got != "parse=[] users=[555000111] roles=[]" {
				t.Errorf("fallback allowed_mentions = %s; want only the requester", got)
			}
		})
	}
}

func TestOldTokenSkipsTheEdit(t *testing.T) {
	t.Parallel()
	// The token's age runs from its receipt on the bot's clock, so the
	// clock jumps forward once the song is acknowledged.
	var ahead atomic.Int64
	h := newHarness(t, func(o *bot.Options) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
		o.JobTimeout = 0 // the jump would time the job out first
	})
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	h.start()
	in := h.song(discordtest.SongCommand{Prompt: "late song"})
	h.wait("the composing message", func() bool {
		m, ok := h.discord.Original(in.Token)
		return ok && strings.Contains(m.Content, "Composing")
	})
	// Received 14m50s ago: acknowledged in time, but too old to edit later.
	ahead.Store(int64(14*time.Minute + 50*time.Second))
	h.whisul.FinishAll()
	h.wait("the job to end", func() bool { return h.outcome(in.ID) != "" })
	if len(h.discord.ChannelMessages(in.ChannelID)) != 1 {
		t.Error("no fallback message in the channel")
	}
	if m, _ := h.discord.Original(in.Token); len(m.Embeds) > 0 {
		t.Error("the bot edited a reply whose token had expired instead of skipping to the fallback")
	}
	if got := h.outcome(in.ID); got != "completed" {
		t.Errorf("outcome = %q; want completed", got)
	}
}
