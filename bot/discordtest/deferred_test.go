package discordtest

import (
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestDeferredInteractionTakesEdits(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, "Bot "+s.Token)
	in := s.Deferred(SongCommand{UserID: "111111111111111111"})
	if m, ok := s.Original(in.Token); !ok || !m.Thinking || m.ChannelID != DefaultChannelID {
		t.Fatalf("Original(Deferred().Token) = %+v, %v; want a thinking reply in the default channel", m, ok)
	}
	content := "done"
	if _, err := dg.WebhookMessageEdit(s.AppID, in.Token, "@original", &discordgo.WebhookEdit{Content: &content}); err != nil {
		t.Fatalf("WebhookMessageEdit(@original) of a Deferred interaction = %v", err)
	}
	if m, _ := s.Original(in.Token); m.Content != "done" || m.Thinking || m.Edits != 1 {
		t.Errorf("Original after the edit = %+v; want content done, no longer thinking, 1 edit", m)
	}
	err := dg.InteractionRespond(&discordgo.Interaction{ID: in.ID, Token: in.Token, AppID: s.AppID}, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
	wantRESTError(t, err, http.StatusBadRequest, discordgo.ErrCodeInteractionHasAlreadyBeenAcknowledged)
}

func TestDispatchGoesToOneSessionRoundRobin(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	_, first := openSession(t, s)
	_, second := openSession(t, s)
	ctx := testContext(t)
	if err := s.Wait(ctx, func() bool { return s.Sessions() == 2 }); err != nil {
		t.Fatalf("waiting for two sessions: %v", err)
	}
	for i := range 4 {
		sent, err := s.SendCommand(ctx, "song", SongCommand{Prompt: "p"})
		if err != nil {
			t.Fatalf("SendCommand #%d: %v", i, err)
		}
		want, other := first, second
		if i%2 == 1 {
			want, other = second, first
		}
		if got := receive(ctx, t, want); got.ID != sent.ID {
			t.Errorf("interaction #%d went to the other session (%s); want round robin", i, got.ID)
		}
		select {
		case got := <-other:
			t.Errorf("interaction %s reached both sessions; want exactly one", got.ID)
		default:
		}
	}
}

func TestRequestsSince(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, "Bot "+s.Token)
	for range 3 {
		if _, err := dg.User("@me"); err != nil {
			t.Fatalf("GET /users/@me: %v", err)
		}
	}
	for _, c := range []struct{ from, want int }{{0, 3}, {2, 1}, {3, 0}, {9, 0}} {
		if got := s.RequestsSince(c.from); len(got) != c.want {
			t.Errorf("RequestsSince(%d) = %d requests; want %d", c.from, len(got), c.want)
		}
	}
}
