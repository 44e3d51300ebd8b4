package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"
)

// connect opens what interactions arrive on: the interactions endpoint when
// Options.Interactions is set, else this process's gateway shards. It
// returns the application id and how to close it; an empty id with a nil
// error means ctx ended first.
func (b *Bot) connect(ctx context.Context) (appID string, closeFront func() error, err error) {
	if b.opts.Interactions != nil {
		return b.serveEndpoint(ctx)
	}
	return b.openShards(ctx)
}

// serveEndpoint serves the interactions endpoint, then learns the
// application id over REST (there is no READY without a gateway). It
// serves first: the developer portal checks the URL with PINGs as soon as
// it is saved.
func (b *Bot) serveEndpoint(ctx context.Context) (string, func() error, error) {
	b.shards.Store(&[]*shard{})
	srv := &http.Server{
		Handler:           b.interactionsHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(b.opts.Interactions) }()
	b.log.Info("serving Discord interactions over HTTP; no gateway session", "addr", b.opts.Interactions.Addr().String())
	closeFront := func() error {
		// In-flight requests finish within answerWithin.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerWithin+time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	}
	appID, err := b.applicationID(ctx)
	if err != nil || appID == "" {
		return "", nil, errors.Join(err, closeFront())
	}
	return appID, closeFront, nil
}

// applicationID asks GET /oauth2/applications/@me for the application id,
// retrying what may pass with capped, jittered backoff until ctx ends; a
// refused token ends it at once.
func (b *Bot) applicationID(ctx context.Context) (string, error) {
	var app struct {
		ID string `json:"id"`
	}
	err := b.retryREST(ctx, "read the application (GET /oauth2/applications/@me)", func() error {
		body, err := b.session.RequestWithBucketID(http.MethodGet, discordgo.EndpointOAuth2Application("@me"), nil,
			discordgo.EndpointOAuth2Application(""), discordgo.WithContext(ctx))
		if err != nil {
			return err
		}
		return json.Unmarshal(body, &app)
	})
	if err != nil || ctx.Err() != nil {
		return "", err
	}
	if app.ID == "" {
		return "", errors.New("discord: GET /oauth2/applications/@me returned no application id")
	}
	return app.ID, nil
}

// retryREST runs call until it succeeds, ctx ends (nil is returned then)
// or it fails in a way retrying cannot fix (401, 403: the token).
func (b *Bot) retryREST(ctx context.Context, what string, call func() error) error {
	wait := openMinWait
	for {
		err := redact(call())
		if err == nil {
			return nil
		}
		if _, status := restCode(err); status == http.StatusUnauthorized || status == http.StatusForbidden {
			return fmt.Errorf("discord: %s: the token was refused (check DISCORD_TOKEN): %w", what, err)
		}
		b.log.Warn("cannot reach Discord; retrying (check the network and DISCORD_API_URL)", "step", what, "err", err, "retry_in", wait)
		if !sleep(ctx, wait/2+rand.N(wait/2+1)) {
			return nil
		}
		wait = min(2*wait, openMaxWait)
	}
}
