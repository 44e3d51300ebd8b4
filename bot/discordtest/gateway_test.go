package discordtest

import (
	"errors"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

func TestIdentifyReady(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	ready := make(chan *discordgo.Ready, 1)
	dg := newSession(t, s, "Bot "+s.Token)
	dg.Identify.Intents = discordgo.IntentsGuilds
	dg.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { ready <- r })
	if err := dg.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { dg.Close() })
	ctx := testContext(t)
	if err := s.Wait(ctx, func() bool { return s.Sessions() > 0 }); err != nil {
		t.Fatalf("waiting for a ready session: %v", err)
	}
	var r *discordgo.Ready
	select {
	case r = <-ready:
	case <-ctx.Done():
		t.Fatal("no READY handled")
	}
	if r.User.ID != s.AppID || !r.User.Bot || r.Application.ID != s.AppID || r.SessionID == "" {
		t.Errorf("READY user %+v application %+v session %q; want bot %s", r.User, r.Application, r.SessionID, s.AppID)
	}
	ids := s.Identifies()
	if len(ids) != 1 || ids[0].Token != "Bot "+s.Token || ids[0].Intents != int(discordgo.IntentsGuilds) || ids[0].Time.IsZero() {
		t.Errorf("Identifies() = %+v; want one with the bot token and intents %d", ids, discordgo.IntentsGuilds)
	}
	if n := s.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d; want 1", n)
	}
}

func TestIdentifyTokenWithoutBotPrefix(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, s.Token)
	if err := dg.Open(); err != nil {
		t.Fatalf("Open with the raw token: %v", err)
	}
	t.Cleanup(func() { dg.Close() })
	if err := s.Wait(testContext(t), func() bool { return s.Sessions() > 0 }); err != nil {
		t.Fatalf("waiting for a ready session: %v", err)
	}
}

func TestIdentifyCloses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		token   func(s *Server) string
		intents discordgo.Intent
		code    int
	}{
		{"wrong token", func(*Server) string { return "Bot nope" }, discordgo.IntentsGuilds, 4004},
		{"privileged intent", func(s *Server) string { return "Bot " + s.Token }, discordgo.IntentMessageContent, 4014},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t)
			dg := newSession(t, s, tt.token(s))
			dg.Identify.Intents = tt.intents
			err := dg.Open()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tt.code {
				t.Fatalf("Open() = %v; want close code %d", err, tt.code)
			}
			if n := len(s.Identifies()); n != 1 {
				t.Errorf("len(Identifies()) = %d; want 1", n)
			}
		})
	}
}
