package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/internal/secret"
)

// projectURL is songbot's home, the https form of its module path.
const projectURL = "https://github.com/songbot-dev/songbot"

// UserAgent is the User-Agent of songbot's requests to Discord, in the
// form Discord asks of bots: DiscordBot ($url, $versionNumber).
func UserAgent(version string) string {
	return "DiscordBot (" + projectURL + ", " + version + ")"
}

// idlePerHost is how many idle connections a pooled transport keeps to one
// host. Go's default is two, so a burst of acknowledgements, or of songs
// finishing together, would open a connection for nearly every request
// and close it after. It bounds only what is kept for reuse, not what is
// open at once; over HTTP/2, as discord.com speaks, a few connections
// carry everything anyway.
const idlePerHost = 64

// pooledTransport is Go's default transport keeping idlePerHost idle
// connections to each host: for Discord's API and for audio downloads.
func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idlePerHost
	return t
}

// NewSession builds a discordgo session whose REST calls and gateway lookup
// go to apiURL (Discord's origin, or a proxy or fake), with paths unchanged.
// discordgo computes its endpoints at init, so the redirect is a
// RoundTripper rather than a change to its package variables. base carries
// the requests; nil means a pooled transport.
func NewSession(token, apiURL string, base http.RoundTripper, userAgent string) (*discordgo.Session, error) {
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	s, err := discordgo.New(token)
	if err != nil {
		return nil, fmt.Errorf("discord: new session: %w", err)
	}
	origin, err := url.Parse(apiURL)
	if err != nil || (origin.Scheme != "http" && origin.Scheme != "https") || origin.Host == "" {
		return nil, fmt.Errorf("discord: API URL %q must be an http(s) origin such as https://discord.com", apiURL)
	}
	if base == nil {
		base = pooledTransport()
	}
	s.Client = &http.Client{Timeout: 20 * time.Second, Transport: rewriteOrigin{origin: origin, next: base}}
	s.Identify.Intents = discordgo.IntentsNone // interactions need no intents
	s.StateEnabled = false
	s.UserAgent = userAgent
	return s, nil
}

// rewriteOrigin sends requests for https://discord.com to origin instead.
type rewriteOrigin struct {
	origin *url.URL
	next   http.RoundTripper
}

func (r rewriteOrigin) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "discord.com" || (r.origin.Scheme == "https" && r.origin.Host == "discord.com") {
		return r.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.URL.Scheme = r.origin.Scheme
	req.URL.Host = r.origin.Host
	req.URL.Path = strings.TrimSuffix(r.origin.Path, "/") + req.URL.Path
	req.Host = ""
	return r.next.RoundTrip(req)
}

// discordAPI is what the handlers and the poll loop send to Discord. The
// bot's is a thin adapter over a discordgo Session (sessionAPI); tests use
// a fake. Every error it returns is redacted: webhook URLs carry
// interaction tokens.
type discordAPI interface {
	// Respond sends an interaction's first response.
	Respond(ctx context.Context, in *discordgo.Interaction, resp *discordgo.InteractionResponse) error
	// EditReply edits the interaction's reply; only reply calls it.
	EditReply(ctx context.Context, appID, token string, edit *discordgo.WebhookEdit) error
	// Send posts a message in a channel.
	Send(ctx context.Context, channelID string, msg *discordgo.MessageSend) error
	// OpenDM returns the id of the DM channel with a user.
	OpenDM(ctx context.Context, userID string) (channelID string, err error)
	// SetCommands overwrites the application's commands in guildID, or
	// globally when it is empty.
	SetCommands(ctx context.Context, appID, guildID string, cmds []*discordgo.ApplicationCommand) error
	// Commands lists the registered commands.
	Commands(ctx context.Context, appID, guildID string) ([]*discordgo.ApplicationCommand, error)
}

// sessionAPI is discordAPI over a discordgo Session. Per-interaction
// requests go through buckets of its own (see tokenBuckets), everything
// else through the session's rate limiter.
type sessionAPI struct {
	s       *discordgo.Session
	buckets *tokenBuckets
}

func newSessionAPI(s *discordgo.Session, now func() time.Time) sessionAPI {
	return sessionAPI{s: s, buckets: newTokenBuckets(now, tokenLifetime)}
}

func (a sessionAPI) Respond(ctx context.Context, in *discordgo.Interaction, resp *discordgo.InteractionResponse) error {
	uri := discordgo.EndpointInteractionResponse(in.ID, in.Token)
	var files []*discordgo.File
	if resp.Data != nil {
		files = resp.Data.Files
	}
	return a.interactionRequest(ctx, http.MethodPost, uri, in.Token, resp, files)
}

// EditReply edits @original under the token's own bucket: discordgo would
// put every JSON webhook edit of the process in one bucket and hold its
// lock for the whole request, capping edits at 10-20 a second, and keep a
// bucket per multipart edit URL for ever.
func (a sessionAPI) EditReply(ctx context.Context, appID, token string, edit *discordgo.WebhookEdit) error {
	uri := discordgo.EndpointWebhookMessage(appID, token, "@original")
	return a.interactionRequest(ctx, http.MethodPatch, uri, token, edit, edit.Files)
}

func (a sessionAPI) Send(ctx context.Context, channelID string, msg *discordgo.MessageSend) error {
	_, err := a.s.ChannelMessageSendComplex(channelID, msg, discordgo.WithContext(ctx))
	return redact(err)
}

func (a sessionAPI) OpenDM(ctx context.Context, userID string) (string, error) {
	ch, err := a.s.UserChannelCreate(userID, discordgo.WithContext(ctx))
	if err != nil {
		return "", redact(err)
	}
	return ch.ID, nil
}

func (a sessionAPI) SetCommands(ctx context.Context, appID, guildID string, cmds []*discordgo.ApplicationCommand) error {
	_, err := a.s.ApplicationCommandBulkOverwrite(appID, guildID, cmds, discordgo.WithContext(ctx))
	return redact(err)
}

func (a sessionAPI) Commands(ctx context.Context, appID, guildID string) ([]*discordgo.ApplicationCommand, error) {
	cmds, err := a.s.ApplicationCommands(appID, guildID, discordgo.WithContext(ctx))
	return cmds, redact(err)
}

// redact drops request URLs from transport and rate-limit errors: webhook
// URLs carry the interaction token, which must never reach a log.
func redact(err error) error {
	if op, cause := secret.SplitURLError(err); op != "" {
		return fmt.Errorf("discord: %s request failed: %w", op, cause)
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		return rateLimited{retryAfter: rl.RetryAfter}
	}
	return err
}

// rateLimited is Discord's 429 on a request sent without discordgo's
// retries, without the URL discordgo's RateLimitError carries.
type rateLimited struct{ retryAfter time.Duration }

func (e rateLimited) Error() string {
	return "discord: rate limited (429), retry after " + e.retryAfter.String()
}

// restCode returns Discord's JSON error code and HTTP status from err, or
// zeros when err is not a Discord REST error.
func restCode(err error) (code, status int) {
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		return 0, 0
	}
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if re.Message != nil {
		code = re.Message.Code
	}
	return code, status
}

// transient reports whether a Discord call may succeed if tried again later.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) || errors.As(err, new(rateLimited)) {
		return true
	}
	code, status := restCode(err)
	if status == 0 && code == 0 {
		return !errors.Is(err, context.Canceled) // network failure
	}
	return status == http.StatusTooManyRequests || status >= 500
}
