package discordtest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/internal/testkit"
)

func TestRESTErrors(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	bot := "Bot " + s.Token
	tests := []struct {
		method, path, auth string
		status             int
		body               string
	}{
		{"GET", "/api/v9/users/@me", "", 401, `{"message":"401: Unauthorized","code":0}`},
		{"GET", "/api/v9/users/@me", s.Token, 401, `{"message":"401: Unauthorized","code":0}`},
		{"GET", "/api/v9/guilds/1/members", bot, 404, `{"message":"404: Not Found","code":0}`},
		{"GET", "/api/v8/users/@me", bot, 404, `{"message":"404: Not Found","code":0}`},
		{"DELETE", "/api/v9/users/@me", bot, 405, `{"message":"405: Method Not Allowed","code":0}`},
		{"GET", "/api/v9/gateway", "", 200, `{"url":"` + s.wsURL + `"}`},
	}
	for _, tt := range tests {
		header := http.Header{}
		if tt.auth != "" {
			header.Set("Authorization", tt.auth)
		}
		resp, body := testkit.HTTPDo(t, tt.method, s.URL+tt.path, header)
		if status := resp.StatusCode; status != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s %s = %d %s; want %d %s", tt.method, tt.path, status, body, tt.status, tt.body)
		}
	}
	reqs := s.Requests()
	if len(reqs) != len(tests) {
		t.Fatalf("recorded %d requests; want %d", len(reqs), len(tests))
	}
	if r := reqs[2]; r.Path != "/api/v9/guilds/1/members" || r.Status != 404 || r.Header.Get("Authorization") != bot {
		t.Errorf("recorded %+v; want the unexpected call with its 404", r)
	}
}

func TestUserAndGatewayThroughDiscordgo(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, "Bot "+s.Token)
	u, err := dg.User("@me")
	if err != nil || u.ID != s.AppID || !u.Bot || u.Username != "songbot" || u.Discriminator != "0" {
		t.Errorf("User(@me) = %+v, %v; want the bot", u, err)
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg := newSession(t, s, "Bot "+s.Token)

	// discordgo waits out a 429 and retries.
	s.FailNext("POST", "/channels/", 1, http.StatusTooManyRequests, "")
	if _, err := dg.ChannelMessageSend("123456789", "hi"); err != nil {
		t.Fatalf("ChannelMessageSend after one 429: %v", err)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Status != 200 || reqs[1].Time.Sub(reqs[0].Time) < 100*time.Millisecond {
		t.Errorf("requests %d: want a 429 then, after retry_after, a 200", len(reqs))
	}

	s.FailNext("", "/api/v9/channels/123456789", 1, http.StatusInternalServerError, "")
	_, err := dg.ChannelMessageSend("123456789", "hi")
	wantRESTError(t, err, http.StatusInternalServerError, 0)
	if n := len(s.ChannelMessages("123456789")); n != 1 {
		t.Errorf("%d channel messages; want 1 (failed requests have no effect)", n)
	}

	s.FailNext("GET", "/users/", 2, http.StatusForbidden, `{"message":"Missing Access","code":50001}`)
	for range 2 {
		_, err := dg.User("@me")
		wantRESTError(t, err, http.StatusForbidden, discordgo.ErrCodeMissingAccess)
	}
	if _, err := dg.User("@me"); err != nil {
		t.Errorf("third User(@me) = %v; want the rule used up", err)
	}
}

func TestWaitWakesOnEvents(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	ctx := testContext(t)
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, func() bool { return len(s.Requests()) > 0 }) }()
	testkit.HTTPGet(t, s.URL+"/api/v9/gateway")
	if err := <-done; err != nil {
		t.Fatalf("Wait after a request = %v", err)
	}

	// Gateway events wake it too.
	go func() { done <- s.Wait(ctx, func() bool { return s.Sessions() > 0 }) }()
	openSession(t, s)
	if err := <-done; err != nil {
		t.Fatalf("Wait for a ready session = %v", err)
	}

	short, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Wait(short, func() bool { return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context = %v; want context.Canceled", err)
	}
}
