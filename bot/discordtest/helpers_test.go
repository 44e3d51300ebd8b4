package discordtest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// rewriteTransport sends requests for https://discord.com to the fake,
// paths unchanged, the way the bot points discordgo at it.
type rewriteTransport struct {
	origin *url.URL
	next   http.RoundTripper
}

func (t rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "discord.com" {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = t.origin.Scheme, t.origin.Host, ""
	}
	return t.next.RoundTrip(r)
}

// newSession returns an unopened discordgo session against the fake.
func newSession(t *testing.T, s *Server, token string) *discordgo.Session {
	t.Helper()
	dg, err := discordgo.New(token)
	if err != nil {
		t.Fatalf("discordgo.New: %v", err)
	}
	origin, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("parse %q: %v", s.URL, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	t.Cleanup(tr.CloseIdleConnections)
	dg.Client = &http.Client{Transport: rewriteTransport{origin, tr}, Timeout: 10 * time.Second}
	return dg
}

// openSession connects a bot and returns the interactions it receives.
func openSession(t *testing.T, s *Server) (*discordgo.Session, <-chan *discordgo.Interaction) {
	t.Helper()
	dg := newSession(t, s, "Bot "+s.Token)
	got := make(chan *discordgo.Interaction, 512)
	dg.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) { got <- ic.Interaction })
	if err := dg.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { dg.Close() })
	return dg, got
}

// testContext bounds a test's waits.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func receive(ctx context.Context, t *testing.T, got <-chan *discordgo.Interaction) *discordgo.Interaction {
	t.Helper()
	select {
	case i := <-got:
		return i
	case <-ctx.Done():
		t.Fatalf("no INTERACTION_CREATE received: %v", ctx.Err())
		return nil
	}
}

// sendAndReceive dispatches a command and returns it as the bot saw it.
func sendAndReceive(ctx context.Context, t *testing.T, s *Server, got <-chan *discordgo.Interaction, c SongCommand) (Interaction, *discordgo.Interaction) {
	t.Helper()
	sent, err := s.SendCommand(ctx, "song", c)
	if err != nil {
		t.Fatalf("SendCommand: %v", err)
	}
	i := receive(ctx, t, got)
	if i.ID != sent.ID {
		t.Fatalf("received interaction %s; want %s", i.ID, sent.ID)
	}
	return sent, i
}

func wantRESTError(t *testing.T, err error, status, code int) {
	t.Helper()
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v; want *discordgo.RESTError", err)
	}
	if re.Response.StatusCode != status || re.Message == nil || re.Message.Code != code {
		t.Fatalf("err = %v; want HTTP %d code %d", err, status, code)
	}
}

func deferReply(t *testing.T, dg *discordgo.Session, i *discordgo.Interaction, flags discordgo.MessageFlags) {
	t.Helper()
	err := dg.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: flags},
	})
	if err != nil {
		t.Fatalf("InteractionRespond(type 5): %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func asRESTError(err error, re **discordgo.RESTError) bool { return errors.As(err, re) }
