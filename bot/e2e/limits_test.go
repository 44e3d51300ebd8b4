package e2e_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// reply is an interaction's first answer, decoded.
type reply struct {
	Type int `json:"type"`
	Data struct {
		Content string `json:"content"`
		Flags   int    `json:"flags"`
	} `json:"data"`
}

func (h *harness) reply(in discordtest.Interaction) reply {
	h.t.Helper()
	h.wait("the answer to "+in.ID, func() bool { _, ok := h.discord.Callback(in.ID); return ok })
	cb, _ := h.discord.Callback(in.ID)
	var r reply
	if err := json.Unmarshal(cb.JSON, &r); err != nil {
		h.t.Fatalf("decode callback %s: %v", cb.JSON, err)
	}
	return r
}

// refused reports whether the interaction got an ephemeral refusal.
func (r reply) refused() bool { return r.Type == 4 && r.Data.Flags&64 != 0 }

func TestEachLimitRefusesAtItsBoundary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limits storage.Limits
		opts   func(*bot.Options)
		// songs are sent in order as (user, guild, prompt); the last one
		// must be refused with want in its text, and none before it.
		songs [][3]string
		want  string
	}{
		{"user active", storage.Limits{UserMaxActive: 2}, nil,
			[][3]string{{"u1", "g1", "a"}, {"u1", "g1", "b"}, {"u1", "g1", "c"}}, "2 songs on the way"},
		{"cooldown", storage.Limits{UserCooldown: time.Hour}, nil,
			[][3]string{{"u1", "g1", "a"}, {"u2", "g1", "b"}, {"u1", "g1", "c"}}, "<t:"},
		{"daily limit", storage.Limits{UserDailyLimit: 2}, nil,
			[][3]string{{"u1", "g1", "a"}, {"u1", "g1", "b"}, {"u1", "g1", "c"}}, "daily limit"},
		{"guild active", storage.Limits{GuildMaxActive: 2}, nil,
			[][3]string{{"u1", "g1", "a"}, {"u2", "g1", "b"}, {"u3", "", "dm"}, {"u3", "g2", "other server"}, {"u3", "g1", "c"}}, "This server already has 2 songs"},
		{"queue full", storage.Limits{MaxRunning: 1, MaxQueued: 1}, nil,
			[][3]string{{"u1", "g1", "a"}, {"u2", "g1", "b"}, {"u3", "g1", "c"}}, "queue is full"},
		{"blocked user", storage.Limits{}, func(o *bot.Options) { o.BlockedUserIDs = []string{"u9"} },
			[][3]string{{"u1", "g1", "a"}, {"u9", "g1", "b"}}, "can't make songs"},
		{"blocked word", storage.Limits{}, func(o *bot.Options) { o.BlockedWords = []string{"forbidden tune"} },
			[][3]string{{"u1", "g1", "a forbiddentune"}, {"u2", "g1", "a FORBIDDEN-tune!"}}, "isn't allowed"},
		{"server not allowed", storage.Limits{}, func(o *bot.Options) { o.AllowedGuildIDs, o.AllowDMs = []string{"g1"}, true },
			[][3]string{{"u1", "g1", "a"}, {"u1", "", "dm"}, {"u2", "g2", "b"}}, "not set up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *bot.Options) {
				o.Limits = tt.limits
				if tt.opts != nil {
					tt.opts(o)
				}
			})
			h.whisul.SetDefault(whisultest.Script{After: time.Hour})
			h.start()
			for i, s := range tt.songs {
				c := discordtest.SongCommand{UserID: s[0], GuildID: s[1], Prompt: s[2]}
				if s[1] == "" {
					c.Where = discordtest.InDM
				}
				r := h.reply(h.song(c))
				last := i == len(tt.songs)-1
				if r.refused() != last {
					t.Fatalf("song %d (%v): refused = %v (%q); want %v", i, s, r.refused(), r.Data.Content, last)
				}
				if last && !strings.Contains(r.Data.Content, tt.want) {
					t.Errorf("refusal = %q; want it to contain %q", r.Data.Content, tt.want)
				}
			}
			if tt.limits.MaxRunning == 0 {
				want := len(tt.songs) - 1
				h.wait("the accepted songs' submissions", func() bool { return len(h.whisul.Jobs()) >= want })
				if got := h.whisul.Count("POST", "/api/generate"); got != want {
					t.Errorf("whisul saw %d submissions; want %d (a refusal never calls Whisul)", got, want)
				}
			}
		})
	}
}

func TestQueueIsFIFOAndStartsSongsAsSlotsFree(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{MaxRunning: 1} })
	h.whisul.SetDefault(whisultest.Script{Polls: 2})
	h.start()
	var ins []discordtest.Interaction
	for i := range 4 {
		in := h.song(discordtest.SongCommand{UserID: fmt.Sprintf("u%d", i), Prompt: fmt.Sprintf("song %d", i)})
		h.reply(in)
		ins = append(ins, in)
	}
	for i, in := range ins[1:] {
		want := []string{"1st in line", "2nd in line", "3rd in line"}[i]
		h.wait("the queued message", func() bool {
			m, _ := h.discord.Original(in.Token)
			return strings.Contains(m.Content, "in line")
		})
		if m, _ := h.discord.Original(in.Token); !strings.Contains(m.Content, want) {
			t.Errorf("reply of song %d = %q; want %q", i+1, m.Content, want)
		}
	}
	for _, in := range ins {
		embed(t, h.finalReply(in))
	}
	var order []string
	for _, j := range h.whisul.Jobs() {
		order = append(order, j.Prompt)
	}
	if got := strings.Join(order, ","); got != "song 0,song 1,song 2,song 3" {
		t.Errorf("whisul got the songs in order %s; want the order they were asked for", got)
	}
	if peak := h.whisul.PeakRunning(); peak != 1 {
		t.Errorf("whisul saw %d songs at once; want MAX_RUNNING = 1", peak)
	}
}

func TestSlotsAreReleasedOnEveryEnding(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) {
		o.Limits = storage.Limits{MaxRunning: 2, UserMaxActive: 1}
		o.JobTimeout = 200 * time.Millisecond
	})
	h.whisul.OnPrompt("fails", whisultest.Script{Fail: true})
	h.whisul.OnPrompt("lost", whisultest.Script{NotFound: true})
	h.whisul.OnPrompt("endless", whisultest.Script{After: time.Hour})
	h.whisul.OnPrompt("works", whisultest.Script{})
	h.start()
	// One user, one active song at a time: each next song is admitted only
	// if the previous one released its slot.
	for _, prompt := range []string{"fails", "lost", "endless", "works", "fails", "works"} {
		in := h.song(discordtest.SongCommand{UserID: "u1", Prompt: prompt})
		if r := h.reply(in); r.refused() {
			t.Fatalf("song %q refused (%q); a previous song leaked its slot", prompt, r.Data.Content)
		}
		h.wait("the song to end", func() bool { return h.outcome(in.ID) != "" })
	}
	h.whisul.FailGenerate(1, 400, "")
	in := h.song(discordtest.SongCommand{UserID: "u1", Prompt: "rejected"})
	h.wait("the rejection", func() bool { return h.outcome(in.ID) == "rejected" })
	running, queued, err := h.store.Counts(t.Context())
	if err != nil || running != 0 || queued != 0 {
		t.Errorf("Counts() = %d running, %d queued, %v; want all slots free", running, queued, err)
	}
}

// burst sends songs for users concurrently and reports how each was
// answered.
func (h *harness) burst(users, perUser int) (accepted, refused []discordtest.Interaction, reasons map[string]int) {
	h.t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	reasons = map[string]int{}
	for u := range users {
		for k := range perUser {
			wg.Go(func() {
				in := h.song(discordtest.SongCommand{UserID: fmt.Sprintf("%d", 1000+u), Prompt: fmt.Sprintf("song %d of user %d", k, u)})
				r := h.reply(in)
				mu.Lock()
				defer mu.Unlock()
				if r.refused() {
					refused = append(refused, in)
					reasons[r.Data.Content]++
				} else {
					accepted = append(accepted, in)
				}
			})
		}
	}
	wg.Wait()
	return accepted, refused, reasons
}

func TestTwoProcessesNeverExceedTheLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{MaxRunning: 3, UserMaxActive: 2} })
	h.whisul.SetDefault(whisultest.Script{After: time.Hour}) // none ends during the burst
	h.start()
	h.start()
	accepted, refused, _ := h.burst(10, 4)
	h.whisul.SetDefault(whisultest.Script{Polls: 2})
	h.whisul.FinishAll()
	for _, in := range accepted {
		embed(t, h.finalReply(in))
	}
	if peak := h.whisul.PeakRunning(); peak > 3 {
		t.Errorf("whisul saw %d songs at once; want at most MAX_RUNNING = 3", peak)
	}
	if len(accepted) != 20 || len(refused) != 20 {
		t.Errorf("accepted %d and refused %d of 40; want 20 and 20 (2 per user)", len(accepted), len(refused))
	}
}

func TestEventBurst300From100Users(t *testing.T) {
	if testing.Short() {
		t.Skip("a burst of 300 songs")
	}
	t.Parallel()
	defaults := storage.Limits{MaxRunning: 20, MaxQueued: 200, UserMaxActive: 2, UserCooldown: 15 * time.Second}
	noCooldown := defaults
	noCooldown.UserCooldown = 0
	for _, tt := range []struct {
		name         string
		limits       storage.Limits
		wantAccepted int
	}{
		{"default limits", defaults, 100}, // each user's first song; cooldown refuses the rest
		{"no cooldown", noCooldown, 200},  // two per user: 20 run, 180 queue
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *bot.Options) { o.Limits = tt.limits; o.WhisulMaxRPS = 1000 })
			// No song ends during the burst, so each user's limit is the
			// whole story of who is accepted.
			h.whisul.SetDefault(whisultest.Script{After: time.Hour})
			h.start()
			start := time.Now()
			accepted, refused, reasons := h.burst(100, 3)
			h.whisul.SetDefault(whisultest.Script{Polls: 2})
			h.whisul.FinishAll()
			for _, in := range accepted {
				embed(t, h.finalReply(in))
			}
			took := time.Since(start)
			peak := h.whisul.PeakRunning()
			t.Logf("300 /song from 100 users: %d accepted and delivered in %v, %d refused %v, whisul peak %d running",
				len(accepted), took.Round(time.Millisecond), len(refused), reasons, peak)
			if peak > tt.limits.MaxRunning {
				t.Errorf("whisul saw %d songs at once; want at most %d", peak, tt.limits.MaxRunning)
			}
			if len(accepted) != tt.wantAccepted || len(accepted)+len(refused) != 300 {
				t.Errorf("%d accepted + %d refused; want %d accepted and every one of 300 answered", len(accepted), len(refused), tt.wantAccepted)
			}
			for text := range reasons {
				if !strings.Contains(text, "<t:") && !strings.Contains(text, "on the way") {
					t.Errorf("refusal %q does not say which limit applied or when", text)
				}
			}
		})
	}
}
