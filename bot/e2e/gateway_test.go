package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestGatewayFaultsAreResumed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault func(*discordtest.Server) error
	}{
		{"dropped connection", func(s *discordtest.Server) error { s.DropConnections(); return nil }},
		{"op 7 RECONNECT", (*discordtest.Server).SendReconnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.whisul.SetDefault(whisultest.Script{After: time.Hour})
			h.start()
			pending := h.song(discordtest.SongCommand{Prompt: "a song pending across the fault", UserID: "900001"})
			h.wait("the composing message", func() bool {
				m, ok := h.discord.Original(pending.Token)
				return ok && strings.Contains(m.Content, "Composing")
			})
			if err := tt.fault(h.discord); err != nil {
				t.Fatalf("fault: %v", err)
			}
			h.wait("the session resumed", func() bool { return h.discord.Resumes() >= 1 && h.discord.Sessions() == 1 })
			if n := len(h.discord.Identifies()); n != 1 {
				t.Errorf("%d IDENTIFYs; want 1, the fault resumed rather than a new session", n)
			}
			h.whisul.SetDefault(whisultest.Script{})
			h.whisul.FinishAll()
			after := h.song(discordtest.SongCommand{Prompt: "a song after the fault", UserID: "900002"})
			embed(t, h.finalReply(after))
			embed(t, h.finalReply(pending))
			for _, in := range []discordtest.Interaction{pending, after} {
				finals := 0
				for _, r := range h.discord.Requests() {
					if r.Method == "PATCH" && strings.Contains(r.Path, in.Token) && r.ContentType == "multipart/form-data" {
						finals++
					}
				}
				if finals != 1 || len(h.discord.ChannelMessages(in.ChannelID)) != 0 {
					t.Errorf("song of user %s: %d final edits, %d channel messages; want one edit", in.UserID, finals, len(h.discord.ChannelMessages(in.ChannelID)))
				}
			}
			if got := h.outcome(pending.ID) + "," + h.outcome(after.ID); got != "completed,completed" {
				t.Errorf("outcomes = %s; want completed,completed", got)
			}
		})
	}
}
