package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
)

// An interaction token edits its reply for 15 minutes after the
// interaction was created, which the bot takes from its receipt. The bot stops using it a little earlier, so an
// edit never races the expiry; the result then goes by fallback.
const (
	tokenLifetime  = 15 * time.Minute
	tokenSafetyGap = 30 * time.Second
)

// errTokenExpired is why a reply is not edited once its token is too old.
var errTokenExpired = errors.New("interaction token expired (older than 15 minutes)")

// reply is a user's reply to a /song after the acknowledgement: the one
// way to edit it and, once its token no longer works, to send the result
// elsewhere. It owns the token and its lifetime, so nothing else handles
// the token.
type reply struct {
	api   discordAPI
	appID string
	token string // never log it
	// createdAt is when the token's lifetime started on the local clock
	// (see tokenStart); the token dies tokenLifetime later.
	createdAt time.Time
	// Where a fallback goes: the channel (unless the song is private),
	// else a DM to the user.
	channelID string
	userID    string
	private   bool
}

// replyTo is the reply of job's interaction.
func replyTo(api discordAPI, job storage.Job) reply {
	return reply{
		api: api, appID: job.AppID, token: job.InteractionToken, createdAt: job.InteractionAt,
		channelID: job.ChannelID, userID: job.UserID, private: job.Ephemeral,
	}
}

// live reports whether the token is young enough to edit the reply at now.
func (r reply) live(now time.Time) bool {
	return now.Before(r.createdAt.Add(tokenLifetime - tokenSafetyGap))
}

// edit changes the reply; tokenGone(err) says when the token stopped
// working early.
func (r reply) edit(ctx context.Context, e *discordgo.WebhookEdit) error {
	return r.api.EditReply(ctx, r.appID, r.token, e)
}

// progressEditAttempts is how often a progress edit is tried: one retry,
// so a 429 is waited out, but a failing Discord does not hold up the poll.
const progressEditAttempts = 2

// editText replaces the reply with plain text, and removes its buttons
// (a queued song's Cancel goes once the song starts). A failure is logged:
// the user may keep seeing the previous state of the reply.
func (r reply) editText(ctx context.Context, log *slog.Logger, text string) {
	r.editWith(ctx, log, text, []discordgo.MessageComponent{})
}

// editWith is editText with components in place of the buttons.
func (r reply) editWith(ctx context.Context, log *slog.Logger, text string, components []discordgo.MessageComponent) {
	content := truncate(text, maxContent)
	edit := &discordgo.WebhookEdit{Content: &content, Components: &components, AllowedMentions: noMentions()}
	if err := retryEdit(ctx, log, progressEditAttempts, nil, func() error { return r.edit(ctx, edit) }); err != nil {
		log.Warn("could not edit the reply", "err", err)
	}
}

// fallback posts a message where the user will see it when the reply can
// no longer be edited: in the interaction's channel or else in a DM; a
// private song goes to a DM only. send posts the message in one channel.
func (r reply) fallback(ctx context.Context, log *slog.Logger, send func(channelID string) error) (FallbackPlace, error) {
	var chanErr error
	if !r.private && r.channelID != "" {
		if chanErr = send(r.channelID); chanErr == nil {
			return FallbackChannel, nil
		}
		log.Info("cannot post in the channel; trying a DM", "err", chanErr)
	}
	dm, err := r.api.OpenDM(ctx, r.userID)
	if err == nil {
		err = send(dm)
	}
	if err == nil {
		return FallbackDM, nil
	}
	return FallbackLost, errors.Join(chanErr, err)
}

// tokenGone reports whether err means the interaction token can no longer
// edit the reply: it expired after 15 minutes or the webhook is unknown.
func tokenGone(err error) bool {
	code, _ := restCode(err)
	return code == discordgo.ErrCodeInvalidWebhookTokenProvided || code == discordgo.ErrCodeUnknownWebhook
}

// deliveryMargin is how long before its receipt an interaction is taken
// to have been created: Discord delivers it within a second or two, and
// the token's 15 minutes run from its creation.
const deliveryMargin = 5 * time.Second

// skewThreshold is how far an interaction id's time may be from the local
// clock before it is reported as clock skew rather than delivery delay.
const skewThreshold = time.Minute

// tokenStart is when the token's 15 minutes started, on the local clock:
// the receipt less deliveryMargin. The id's own timestamp is on Discord's
// clock; trusting it, a host whose clock runs 15 minutes ahead would think
// every token dead on arrival. skew is how far the id's time is behind the
// local clock (negative: ahead), or 0 when the id is not a snowflake.
func tokenStart(id string, received time.Time) (start time.Time, skew time.Duration) {
	start = received.Add(-deliveryMargin)
	t, err := discordgo.SnowflakeTimestamp(id)
	if err != nil {
		return start, 0
	}
	return start, received.Sub(t)
}

// clockCheck reports clock skew once per process: one line is enough for
// an operator to fix the host's clock, and every interaction would repeat
// it.
type clockCheck struct{ once sync.Once }

// observe logs skew when it is beyond skewThreshold, the first time only.
func (c *clockCheck) observe(log *slog.Logger, skew time.Duration) {
	if skew.Abs() <= skewThreshold {
		return
	}
	c.once.Do(func() {
		log.Warn("this host's clock differs from Discord's; interaction tokens are timed from their arrival, but check the host's clock (NTP)",
			"offset", skew.Round(time.Second), "detail", "interaction ids are this much older than the local time (negative: newer)")
	})
}
