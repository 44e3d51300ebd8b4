package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/internal/secret"
)

// closeAuthFailed is the gateway close code for a token Discord refuses.
const closeAuthFailed = 4004

// backoff is the wait between two attempts to reach Discord at start:
// doubling from min, capped at max, with the upper half jittered so that
// many bots restarted together do not retry in step.
type backoff struct {
	min, max time.Duration
	jitter   func(n time.Duration) time.Duration // uniform in [0, n); tests fix it
}

// startupBackoff retries quickly at first (a container that starts before
// its network is up), then every 30s while Discord or the network is down.
func startupBackoff() backoff {
	return backoff{min: 500 * time.Millisecond, max: 30 * time.Second, jitter: rand.N[time.Duration]}
}

// wait is the pause after the attempt-th failure (1-based).
func (b backoff) wait(attempt int) time.Duration {
	d := b.min
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return d/2 + b.jitter(d/2+1)
}

// awaitDiscord calls probe until Discord answers it, before the bot opens
// the gateway. A network failure or a 5xx is retried with capped backoff,
// logged with what to check: a bot started before its network, or during
// a Discord outage, comes up by itself. A refused token is returned at
// once: retrying cannot fix it. When ctx ends first it returns ctx's error.
func awaitDiscord(ctx context.Context, probe func(context.Context) error, where string, log *slog.Logger, b backoff) error {
	for attempt := 1; ; attempt++ {
		err := probe(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		retry, reason := shouldRetryStart(err)
		if !retry {
			return startupProblem(err, where)
		}
		wait := b.wait(attempt)
		log.Warn("cannot reach Discord at start; retrying: check the network and DISCORD_API_URL",
			"discord", where, "attempt", attempt, "retry_in", wait.Round(time.Millisecond), "reason", reason)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// shouldRetryStart decides whether a failed start-up request may succeed
// later, and says why in words fit for the log (never the request URL).
func shouldRetryStart(err error) (retry bool, reason string) {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		if status == http.StatusTooManyRequests || status >= 500 {
			return true, fmt.Sprintf("Discord answered %d", status)
		}
		return false, fmt.Sprintf("Discord answered %d", status)
	}
	return true, "no answer: " + secret.WithoutURL(err).Error()
}

// startupProblem words a start-up failure that retrying cannot fix.
func startupProblem(err error, where string) error {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("discord at %s rejected DISCORD_TOKEN (401): set DISCORD_TOKEN to the token on the Bot page of your application in the Discord developer portal (Reset Token gives a new one)", where)
	}
	if errors.As(err, &re) && re.Response != nil {
		return fmt.Errorf("discord at %s answered %d when asked who the bot is: check DISCORD_API_URL (Discord's origin, https://discord.com, or your REST proxy's)", where, re.Response.StatusCode)
	}
	return fmt.Errorf("discord at %s: %w", where, secret.WithoutURL(err))
}

// gatewayProblem names DISCORD_TOKEN when the gateway refused it (close
// 4004): the token passed the REST check but not IDENTIFY, for example
// when it was reset in between. Other errors are returned as they are.
func gatewayProblem(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code == closeAuthFailed {
		return errors.New("the Discord gateway rejected DISCORD_TOKEN (close 4004, authentication failed): set DISCORD_TOKEN to the token on the Bot page of your application in the Discord developer portal")
	}
	return err
}

// discordProbe returns a request that needs a valid token and the same
// origin rewriting as the bot's session: GET /users/@me.
func discordProbe(token, apiURL string) (func(context.Context) error, error) {
	s, err := bot.NewSession(token, apiURL, nil, bot.UserAgent(buildVersion()))
	if err != nil {
		return nil, configError{[]string{fmt.Sprintf("DISCORD_API_URL is %q: set it to an http(s) origin such as https://discord.com", secret.URL(apiURL))}}
	}
	s.Client.Timeout = 10 * time.Second
	s.MaxRestRetries = 0 // awaitDiscord retries, and logs why
	return func(ctx context.Context) error {
		_, err := s.User("@me", discordgo.WithContext(ctx))
		return err
	}, nil
}
