package e2e_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestClockSkewStillEditsTheReply(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{20 * time.Minute, -20 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.discord.ClockSkew = skew
			h.whisul.SetDefault(whisultest.Script{})
			h.start()
			for i, prompt := range []string{"a skewed song", "another skewed song"} {
				in := h.song(discordtest.SongCommand{Prompt: prompt, UserID: strconv.Itoa(700001 + i)})
				m := h.finalReply(in)
				embed(t, m)
				if got := h.outcome(in.ID); got != "completed" {
					t.Errorf("outcome of %q = %q; want completed", prompt, got)
				}
				if msgs := h.discord.ChannelMessages(in.ChannelID); len(msgs) != 0 {
					t.Errorf("%d fallback messages in the channel; want the reply edited instead", len(msgs))
				}
			}
			if n := strings.Count(h.logs.String(), "check the host's clock (NTP)"); n != 1 {
				t.Errorf("the clock skew is logged %d times; want once", n)
			}
		})
	}
}

func TestFinalEditFaultsAreRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status, n int
		body      string
		wantWait  time.Duration // least time between a failed attempt and the next
	}{
		{"500 twice", http.StatusInternalServerError, 2, "", 0},
		{"503 three times", http.StatusServiceUnavailable, 3, "", 0},
		{"502 twice", http.StatusBadGateway, 2, "", 0},
		{"429 with retry_after", http.StatusTooManyRequests, 1, `{"message":"You are being rate limited.","retry_after":0.4,"global":false}`, 400 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.whisul.SetDefault(whisultest.Script{After: time.Hour})
			h.start()
			in := h.song(discordtest.SongCommand{Prompt: "a song through a flaky Discord"})
			h.wait("the composing message", func() bool {
				m, ok := h.discord.Original(in.Token)
				return ok && strings.Contains(m.Content, "Composing")
			})
			h.discord.FailNext(http.MethodPatch, "/webhooks/"+h.discord.AppID+"/"+in.Token+"/", tt.n, tt.status, tt.body)
			h.whisul.FinishAll()
			embed(t, h.finalReply(in))

			var edits []discordtest.Request
			for _, r := range h.discord.Requests() {
				if r.Method == http.MethodPatch && strings.Contains(r.Path, in.Token) && r.ContentType == "multipart/form-data" {
					edits = append(edits, r)
				}
			}
			if len(edits) != tt.n+1 || edits[len(edits)-1].Status != http.StatusOK {
				t.Fatalf("final edits answered %v; want %d × %d, then 200", statuses(edits), tt.n, tt.status)
			}
			for i := 1; i < len(edits); i++ {
				if gap := edits[i].Time.Sub(edits[i-1].Time); gap < tt.wantWait {
					t.Errorf("attempt %d came %v after a 429 asking for %v", i+1, gap, tt.wantWait)
				}
			}
			if msgs := h.discord.ChannelMessages(in.ChannelID); len(msgs) != 0 {
				t.Errorf("%d fallback messages; want the retried edit alone", len(msgs))
			}
			if got := h.outcome(in.ID); got != "completed" {
				t.Errorf("outcome = %q; want completed", got)
			}
		})
	}
}

func TestFinalEditFailingForGoodFallsBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	h.start()
	in := h.song(discordtest.SongCommand{Prompt: "a song Discord will not take"})
	h.wait("the composing message", func() bool {
		m, ok := h.discord.Original(in.Token)
		return ok && strings.Contains(m.Content, "Composing")
	})
	h.discord.FailNext(http.MethodPatch, "/webhooks/"+h.discord.AppID+"/"+in.Token+"/", 100, http.StatusInternalServerError, "")
	h.whisul.FinishAll()
	h.wait("the job to end", func() bool { return h.outcome(in.ID) != "" })
	if msgs := h.discord.ChannelMessages(in.ChannelID); len(msgs) != 1 {
		t.Errorf("%d fallback messages in the channel; want 1", len(msgs))
	}
}

func statuses(rs []discordtest.Request) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Status)
	}
	return out
}
