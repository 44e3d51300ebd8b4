package e2e_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

// guildOnShard returns the n-th guild id whose events go to shard of count.
func guildOnShard(shard, count, n int) string {
	return strconv.FormatUint(uint64(1_000_000+n*count+shard)<<22|42, 10)
}

// songsOnEveryShard sends perShard songs in guilds of each shard, plus one
// in a DM (shard 0), and waits until each has ended.
func songsOnEveryShard(t *testing.T, h *harness, count, perShard int) []discordtest.Interaction {
	t.Helper()
	var (
		mu  sync.Mutex
		ins []discordtest.Interaction
		wg  sync.WaitGroup
	)
	for shard := range count {
		for n := range perShard {
			wg.Go(func() {
				c := discordtest.SongCommand{Prompt: fmt.Sprintf("shard %d song %d", shard, n), GuildID: guildOnShard(shard, count, n), UserID: fmt.Sprint(7000 + shard*100 + n)}
				if got := h.discord.ShardOf(c.GuildID); got != shard {
					t.Errorf("ShardOf(%s) = %d; want %d", c.GuildID, got, shard)
				}
				in := h.song(c)
				mu.Lock()
				ins = append(ins, in)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	ins = append(ins, h.song(discordtest.SongCommand{Prompt: "a DM song", Where: discordtest.InDM, UserID: "6999"}))
	h.wait("every song delivered", func() bool {
		for _, in := range ins {
			if h.outcome(in.ID) == "" {
				return false
			}
		}
		return true
	})
	return ins
}

// checkOnce fails unless every interaction completed, generated once and
// delivered once.
func checkOnce(t *testing.T, h *harness, ins []discordtest.Interaction) {
	t.Helper()
	edits := finalEdits(h)
	jobs := h.whisul.Jobs()
	if len(jobs) != len(ins) {
		t.Errorf("whisul saw %d jobs; want %d, one per song", len(jobs), len(ins))
	}
	for _, in := range ins {
		if got := h.outcome(in.ID); got != "completed" {
			t.Errorf("interaction %s (guild %q) outcome = %q; want completed", in.ID, in.GuildID, got)
		}
		if n := edits[in.Token]; n != 1 {
			t.Errorf("interaction %s (guild %q) delivered %d times; want once", in.ID, in.GuildID, n)
		}
	}
}

// checkIdentifies fails unless the fake saw one IDENTIFY per shard id of
// count, each carrying [id, count].
func checkIdentifies(t *testing.T, h *harness, count int) []discordtest.Identify {
	t.Helper()
	ids := h.discord.Identifies()
	seen := map[int]bool{}
	for _, id := range ids {
		if id.Shard[1] != count || seen[id.Shard[0]] {
			t.Errorf("IDENTIFY shard = %v; want [id %d] once per id", id.Shard, count)
		}
		seen[id.Shard[0]] = true
	}
	if len(seen) != count {
		t.Errorf("IDENTIFYs for shards %v; want all %d", seen, count)
	}
	return ids
}

func TestOneProcessRunsFourShards(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.discord.Shards = 4
	h.discord.SessionStartLimit.MaxConcurrency = 4
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	checkIdentifies(t, h, 4)
	if n := h.discord.Sessions(); n != 4 {
		t.Errorf("Sessions() = %d; want 4 shards connected", n)
	}
	checkOnce(t, h, songsOnEveryShard(t, h, 4, 3))
	if !containsAll(h.logs.String(), "gateway shard connected", "shard_id=3", "shard_count=4") {
		t.Error("the logs do not say which shard connected")
	}
}

func TestTwoProcessesSplitTheShards(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) { o.ShardCount = 4 })
	h.discord.Shards = 4
	h.discord.SessionStartLimit.MaxConcurrency = 4
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.startWith(func(o *bot.Options) { o.ShardIDs = []int{0, 1} })
	h.startWith(func(o *bot.Options) { o.ShardIDs = []int{2, 3} })
	checkIdentifies(t, h, 4)
	checkOnce(t, h, songsOnEveryShard(t, h, 4, 10))
}

func TestShardsIdentifyAtDiscordsPace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.discord.Shards = 2
	h.discord.SessionStartLimit.MaxConcurrency = 1 // one bucket: 5s apart
	h.start()
	ids := checkIdentifies(t, h, 2)
	if len(ids) == 2 {
		if gap := ids[1].Time.Sub(ids[0].Time); gap < 5*time.Second {
			t.Errorf("IDENTIFYs of one bucket %v apart; want at least 5s", gap)
		}
	}
}

// TestInvalidatedShardsIdentifyAgainAtDiscordsPace: when Discord
// invalidates every session at once, discordgo IDENTIFYs again on its own,
// and the shards of one bucket still do so 5 seconds apart.
func TestInvalidatedShardsIdentifyAgainAtDiscordsPace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.discord.Shards = 2
	h.discord.SessionStartLimit.MaxConcurrency = 1 // one bucket: 5s apart
	h.whisul.SetDefault(whisultest.Script{Polls: 1})
	h.start()
	checkIdentifies(t, h, 2)
	if err := h.discord.InvalidateSessions(); err != nil {
		t.Fatalf("InvalidateSessions() = %v", err)
	}
	h.wait("both shards identified again", func() bool {
		return len(h.discord.Identifies()) == 4 && h.discord.Sessions() == 2
	})
	again := h.discord.Identifies()[2:]
	if again[0].Shard == again[1].Shard {
		t.Errorf("IDENTIFYs again for shards %v and %v; want both shards", again[0].Shard, again[1].Shard)
	}
	if gap := again[1].Time.Sub(again[0].Time); gap < 5*time.Second {
		t.Errorf("IDENTIFYs of one bucket after INVALID_SESSION %v apart; want at least 5s", gap)
	}
	checkOnce(t, h, songsOnEveryShard(t, h, 2, 2))
}

func TestTwoProcessesShareTheShardsIdentifyPace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *bot.Options) { o.ShardCount = 2 })
	h.discord.Shards = 2
	h.discord.SessionStartLimit.MaxConcurrency = 1 // one bucket for both processes
	h.startWith(func(o *bot.Options) { o.ShardIDs = []int{0} })
	h.startWith(func(o *bot.Options) { o.ShardIDs = []int{1} })
	ids := checkIdentifies(t, h, 2)
	if len(ids) == 2 {
		if gap := ids[1].Time.Sub(ids[0].Time); gap < 5*time.Second {
			t.Errorf("IDENTIFYs of one bucket from two processes %v apart; want at least 5s", gap)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
