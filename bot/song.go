package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// request starts a song for the interaction's user: for /song, and for a
// Regenerate button. Checks that need no I/O come first, then one store
// round trip applies the limits and stores the job; only then is the
// interaction acknowledged (a refusal must be ephemeral, which a deferral
// cannot change later). Whisul is called after the acknowledgement.
func (b *Bot) request(ctx context.Context, in incoming, prompt string, private bool) {
	received := b.now()
	user := userID(in.Interaction)
	log := b.log.With("interaction_id", in.ID, "guild_id", in.GuildID, "user_id", user)

	if problem := b.checkPrompt(prompt); problem != "" {
		b.metrics.Interaction("invalid_prompt")
		b.respondEphemeral(ctx, log, in.Interaction, problem)
		return
	}
	if reason := b.policy.refuse(in.GuildID, user, prompt); reason != "" {
		b.refuse(ctx, log, in.Interaction, reason, time.Time{})
		return
	}
	job := storage.Job{
		ID: in.ID,
		Request: storage.Request{
			InteractionToken: in.Token,
			AppID:            in.AppID,
			ChannelID:        in.ChannelID,
			GuildID:          in.GuildID,
			UserID:           user,
			Prompt:           prompt,
			Ephemeral:        private,
			AttachmentLimit:  in.attachmentLimit,
			InteractionAt:    interactionTime(in.ID, received),
		},
		// Hidden from the poll loop while this handler submits it; if the
		// process dies first, the loop submits it when this runs out.
		State: storage.State{NextPollAt: received.Add(b.lease())},
	}
	adm, err := b.store.Admit(ctx, received, job, b.opts.Limits)
	if err != nil {
		log.Error("cannot check the limits or store the job (is the store reachable?)", "err", err)
		b.metrics.Interaction("error")
		b.respondEphemeral(ctx, log, in.Interaction, msgStoreFailed)
		return
	}
	if adm.Refused != "" {
		b.refuse(ctx, log, in.Interaction, string(adm.Refused), adm.RetryAt)
		return
	}

	var flags discordgo.MessageFlags
	if private {
		flags = discordgo.MessageFlagsEphemeral // for the whole exchange
	}
	err = b.session.InteractionRespond(in.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: flags, AllowedMentions: noMentions()},
	}, discordgo.WithContext(ctx))
	if err != nil {
		b.metrics.Interaction("error")
		log.Error("could not acknowledge /song; the user sees 'did not respond'", "err", redact(err))
		if _, err := b.store.Finish(ctx, job.ID); err != nil {
			log.Error("could not release the song's slot", "err", err)
		}
		return
	}
	b.metrics.Acknowledged(b.now().Sub(received))
	b.metrics.Interaction("accepted")
	log.Debug("acknowledged", "latency", b.now().Sub(received), "private", private)

	if adm.Queued {
		log.Info("job queued", "job_id", job.ID, "position", adm.Position)
		b.editText(ctx, log, job.AppID, job.InteractionToken, queuedText(prompt, adm.Position))
		return
	}
	b.start(ctx, job)
}

// start submits an admitted job to Whisul and shows the user it is being
// composed. A rate-limited submission waits in the store for a later try;
// any other failure ends the job, which frees its slot.
func (b *Bot) start(ctx context.Context, job storage.Job) {
	log := b.jobLog(job)
	submitCtx, cancel := context.WithTimeout(ctx, b.lease()*2/3)
	sub, err := b.whisul.Generate(submitCtx, job.Prompt)
	cancel()
	switch {
	case errors.Is(err, whisul.ErrRateLimited):
		retryAfter, _ := whisul.RetryAfter(err)
		b.limiter.Throttle(retryAfter)
		log.Warn("whisul is rate limiting submissions; will try again", "err", err)
		job.LastError = err.Error()
		job.NextPollAt = b.now().Add(max(retryAfter, b.backoff()))
		b.reschedule(ctx, job)
		b.editLive(ctx, log, job, msgBusyWaiting)
		return
	case err != nil:
		log.Warn("whisul refused the song", "err", err)
		b.deliver(ctx, job, rejectedDelivery(err))
		return
	}
	now := b.now()
	job.WhisulID, job.PollURL, job.SubmittedAt = sub.JobID, sub.PollURL, now
	job.LastError = ""
	job.NextPollAt = now.Add(b.opts.PollInterval)
	if err := b.store.Reschedule(ctx, job.ID, job.State); err != nil {
		// The job stays due for submission: Whisul may be asked twice.
		log.Error("could not store the Whisul job id (is the store reachable?)", "whisul_id", sub.JobID, "err", err)
		return
	}
	log.Info("job submitted", "whisul_id", job.WhisulID)
	b.editLive(ctx, log, job, composingText(job.Prompt, now))
}

// jobLog is the logger of one job's transitions. The job id is the
// interaction id; both keys are written so a search by either finds every
// line of the job.
func (b *Bot) jobLog(job storage.Job) *slog.Logger {
	log := b.log.With("job_id", job.ID, "interaction_id", job.ID, "user_id", job.UserID)
	if job.WhisulID != "" {
		log = log.With("whisul_id", job.WhisulID)
	}
	return log
}

// checkPrompt returns why a prompt is refused, or "" when it is fine.
func (b *Bot) checkPrompt(prompt string) string {
	p := strings.TrimSpace(prompt)
	if p == "" {
		return "✏️ Please describe the song you'd like, for example `/song prompt: lo-fi beat for a rainy night`."
	}
	if max := b.opts.PromptMaxLength; max > 0 && utf8.RuneCountInString(p) > max {
		return fmt.Sprintf("✏️ That description is %d characters long; please keep it to %d or fewer.", utf8.RuneCountInString(p), max)
	}
	return ""
}

// refuse answers with an ephemeral refusal that says which limit applied.
func (b *Bot) refuse(ctx context.Context, log *slog.Logger, in *discordgo.Interaction, reason string, retryAt time.Time) {
	log.Info("song refused", "reason", reason)
	b.metrics.Interaction("refused")
	b.metrics.Refused(reason)
	b.respondEphemeral(ctx, log, in, refusalText(reason, b.opts.Limits, retryAt))
}

// respondEphemeral answers the interaction with text only its user sees.
func (b *Bot) respondEphemeral(ctx context.Context, log *slog.Logger, in *discordgo.Interaction, text string) {
	err := b.session.InteractionRespond(in, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content:         truncate(text, maxContent),
			Flags:           discordgo.MessageFlagsEphemeral,
			AllowedMentions: noMentions(),
		},
	}, discordgo.WithContext(ctx))
	if err != nil {
		log.Warn("could not answer the interaction", "err", redact(err))
	}
}

// editLive edits the job's reply while its token still works; later the
// final result goes by fallback anyway.
func (b *Bot) editLive(ctx context.Context, log *slog.Logger, job storage.Job, text string) {
	if b.tokenAlive(job) {
		b.editText(ctx, log, job.AppID, job.InteractionToken, text)
	}
}

func (b *Bot) tokenAlive(job storage.Job) bool {
	return b.now().Before(job.InteractionAt.Add(tokenLifetime - tokenSafetyGap))
}

// editText replaces the interaction's reply with plain text. A failure is
// logged: the user may keep seeing the previous state of the reply.
func (b *Bot) editText(ctx context.Context, log *slog.Logger, appID, token, text string) {
	content := truncate(text, maxContent)
	err := editOriginal(ctx, b.session, appID, token, &discordgo.WebhookEdit{
		Content:         &content,
		AllowedMentions: noMentions(),
	})
	if err != nil {
		log.Warn("could not edit the reply", "err", err)
	}
}

func stringOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	for _, o := range opts {
		if o.Name == name && o.Type == discordgo.ApplicationCommandOptionString {
			if s, ok := o.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// userID is the invoking user: Member.User in guilds, User in DMs.
func userID(in *discordgo.Interaction) string {
	if in.Member != nil && in.Member.User != nil {
		return in.Member.User.ID
	}
	if in.User != nil {
		return in.User.ID
	}
	return ""
}

// interactionTime reads the creation time from the interaction's snowflake
// id; the token expires 15 minutes after it.
func interactionTime(id string, fallback time.Time) time.Time {
	t, err := discordgo.SnowflakeTimestamp(id)
	if err != nil {
		return fallback
	}
	return t
}

var errTokenExpired = errors.New("interaction token expired (older than 15 minutes)")
