package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/storage/storagetest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestRedisOutage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		down, up func(*storagetest.RedisServer)
	}{
		{"stopped and restarted", (*storagetest.RedisServer).Stop, (*storagetest.RedisServer).Start},
		{"hung and resumed", (*storagetest.RedisServer).Pause, (*storagetest.RedisServer).Resume},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			redis := storagetest.StartRedisServer(t)
			h := newHarness(t, nil)
			h.redisURL = redis.URL
			h.whisul.SetDefault(whisultest.Script{After: time.Hour})
			h.start()
			before := h.song(discordtest.SongCommand{Prompt: "a song from before the outage", UserID: "800001"})
			h.wait("the composing message", func() bool {
				m, ok := h.discord.Original(before.Token)
				return ok && strings.Contains(m.Content, "Composing")
			})

			tt.down(redis)
			during := h.song(discordtest.SongCommand{Prompt: "a song during the outage", UserID: "800002"})
			resp := h.reply(during)
			cb, _ := h.discord.Callback(during.ID)
			if lat, _ := h.discord.AckLatency(during.ID); cb.Status >= 300 || lat > 3*time.Second {
				t.Errorf("callback answered %d after %v; want it accepted within 3s", cb.Status, lat)
			}
			if resp.Type != 4 || resp.Data.Flags&64 == 0 || !strings.Contains(resp.Data.Content, "can't take new songs right now") {
				t.Errorf("answer during the outage = type %d flags %d %q; want an ephemeral message saying to try again", resp.Type, resp.Data.Flags, resp.Data.Content)
			}

			h.whisul.FinishAll()
			tt.up(redis)
			embed(t, h.finalReply(before))
			if got := h.outcome(before.ID); got != "completed" {
				t.Errorf("outcome of the song from before = %q; want completed", got)
			}
			edits := 0
			for _, r := range h.discord.Requests() {
				if r.Method == "PATCH" && strings.Contains(r.Path, before.Token) && r.ContentType == "multipart/form-data" {
					edits++
				}
			}
			if edits != 1 || len(h.discord.ChannelMessages(before.ChannelID)) != 0 {
				t.Errorf("the song was sent in %d final edits and %d channel messages; want one edit", edits, len(h.discord.ChannelMessages(before.ChannelID)))
			}
			if n := strings.Count(h.logs.String(), "cannot claim jobs"); n > 1 {
				t.Errorf("the poll loop logged the outage %d times; want at most once", n)
			}
		})
	}
}
