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

// songCommand is /song prompt:... private:...: a new song from a
// description.
func (b *Bot) songCommand() command {
	promptMax := b.opts.PromptMaxLength
	if promptMax <= 0 || promptMax > discordMaxOptionLength {
		promptMax = discordMaxOptionLength
	}
	minLen := 1
	return command{
		def: &discordgo.ApplicationCommand{
			Name:        "song",
			Type:        discordgo.ChatApplicationCommand,
			Description: "Make an original song from a description",
			Options: []*discordgo.ApplicationCommandOption{{
				Type:        discordgo.ApplicationCommandOptionString,
				Name:        "prompt",
				Description: "What should it sound like? Genre, mood, instruments, tempo…",
				Required:    true,
				MinLength:   &minLen,
				MaxLength:   promptMax,
			}, {
				Type:        discordgo.ApplicationCommandOptionBoolean,
				Name:        "private",
				Description: "Only you see the song (default: everyone in the channel)",
			}},
			Contexts:         everywhere,
			IntegrationTypes: guildAndUserInstall,
		},
		handle: func(ctx context.Context, in incoming) {
			opts := in.ApplicationCommandData().Options
			b.request(ctx, in, stringOption(opts, "prompt"), boolOption(opts, "private"))
		},
	}
}

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
		b.metrics.Interaction(InteractionInvalidPrompt)
		b.respondEphemeral(ctx, log, in.Interaction, problem)
		return
	}
	if reason := b.policy.refuse(in.GuildID, user, prompt); reason != "" {
		b.refuse(ctx, log, in.Interaction, reason, time.Time{})
		return
	}
	// Hidden from the poll loop while this handler submits it; if the
	// process dies first, the loop submits it when this runs out.
	job := newJob(in, user, prompt, private, received, received.Add(b.lease()))
	adm, err := b.gate.Admit(ctx, received, job, b.opts.Limits)
	if err != nil {
		log.Error("cannot check the limits or store the job (is the store reachable?)", "err", err)
		b.metrics.Interaction(InteractionError)
		b.respondEphemeral(ctx, log, in.Interaction, msgStoreFailed)
		return
	}
	if adm.Refused != "" {
		b.refuse(ctx, log, in.Interaction, RefusalReason(adm.Refused), adm.RetryAt)
		return
	}
	if adm.Duplicate {
		b.duplicate(ctx, log, in.Interaction, private)
		return
	}

	var flags discordgo.MessageFlags
	if private {
		flags = discordgo.MessageFlagsEphemeral // for the whole exchange
	}
	err = b.discord.Respond(ctx, in.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: flags, AllowedMentions: noMentions()},
	})
	if err != nil {
		b.metrics.Interaction(InteractionError)
		log.Error("could not acknowledge /song; the user sees 'did not respond'", "err", err)
		if _, err := b.queue.Finish(ctx, job.ID); err != nil {
			log.Error("could not release the song's slot", "err", err)
		}
		return
	}
	b.metrics.Acknowledged(b.now().Sub(received))
	b.metrics.Interaction(InteractionAccepted)
	log.Debug("acknowledged", "latency", b.now().Sub(received), "private", private)

	if adm.Queued {
		log.Info("job queued", "job_id", job.ID, "position", adm.Position)
		replyTo(b.discord, job).editText(ctx, log, queuedText(prompt, adm.Position))
		return
	}
	b.start(ctx, job)
}

// newJob is the one place a job is built: what the interaction fixed, due
// at due. Fields are set one by one so the code stays the same whether
// storage.Job holds them or an embedded part of it does.
func newJob(in incoming, user, prompt string, private bool, received, due time.Time) storage.Job {
	return storage.Job{
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
		State: storage.State{NextPollAt: due},
	}
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
	if err := b.saveState(ctx, job); err != nil {
		// The job stays due for submission: Whisul may be asked twice.
		log.Error("could not store the Whisul job id (is the store reachable?)", "whisul_id", sub.JobID, "err", err)
		return
	}
	log.Info("job submitted", "whisul_id", job.WhisulID)
	b.editLive(ctx, log, job, composingText(job.Prompt, now))
}

// editLive edits the job's reply while its token still works; later the
// final result goes by fallback anyway.
func (b *Bot) editLive(ctx context.Context, log *slog.Logger, job storage.Job, text string) {
	if r := replyTo(b.discord, job); r.live(b.now()) {
		r.editText(ctx, log, text)
	}
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
func (b *Bot) refuse(ctx context.Context, log *slog.Logger, in *discordgo.Interaction, reason RefusalReason, retryAt time.Time) {
	log.Info("song refused", "reason", reason)
	b.metrics.Interaction(InteractionRefused)
	b.metrics.Refused(reason)
	b.respondEphemeral(ctx, log, in, refusalText(reason, b.opts.Limits, retryAt))
}
