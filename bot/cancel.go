package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
)

// Canceller takes a queued song out of the queue. storage.Redis and
// storage.Bolt implement it.
type Canceller interface {
	// Cancel takes a queued job out of the queue, atomically with
	// Promote; storage.ErrNotQueued when it runs now.
	Cancel(ctx context.Context, now time.Time, id string) (storage.Job, error)
}

// cancelPrefix starts the custom_id of a queued song's Cancel button:
// song:v1:cancel:<job id>:<requester's user id>. The requester travels in
// the button so that who may cancel is known without a store round trip.
const cancelPrefix = "song:v1:cancel:"

// moderatorPermissions let a member cancel anyone's queued song.
const moderatorPermissions = discordgo.PermissionAdministrator | discordgo.PermissionManageGuild | discordgo.PermissionManageMessages

// cancelButton is the Cancel button of a queued song.
func (b *Bot) cancelButton() component {
	return component{prefix: cancelPrefix, handle: b.handleCancel}
}

// cancelComponents is the queued reply's row: one Cancel button.
func cancelComponents(tr *i18n.Printer, job storage.Job) []discordgo.MessageComponent {
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{
			Label: tr.Text(i18n.ButtonCancel), Style: discordgo.SecondaryButton,
			CustomID: cancelPrefix + job.ID + ":" + job.UserID, Emoji: &discordgo.ComponentEmoji{Name: "✖️"},
		},
	}}}
}

// handleCancel takes a queued song out of the queue, for its requester or
// a moderator (Manage Server or Manage Messages). The store's Cancel and
// Promote are one atomic step each, so a song is either cancelled and
// never generated or it started and the button is gone.
func (b *Bot) handleCancel(ctx context.Context, in incoming) {
	id, requester, _ := strings.Cut(strings.TrimPrefix(in.MessageComponentData().CustomID, cancelPrefix), ":")
	user := userID(in.Interaction)
	log := b.log.With("interaction_id", in.ID, "user_id", user, "job_id", id, "guild_id", in.GuildID)
	tr := b.userTexts(in.Interaction)
	moderator := in.Member != nil && in.Member.Permissions&moderatorPermissions != 0
	if user != requester && !moderator {
		log.Info("cancel refused: not the requester nor a moderator")
		b.respondEphemeral(ctx, log, in.Interaction, tr.Text(i18n.CancelNotYours))
		return
	}
	cctx, cancel := context.WithTimeout(ctx, admitTimeout)
	job, err := b.cancels.Cancel(cctx, b.now(), id)
	cancel()
	switch {
	case errors.Is(err, storage.ErrNotQueued):
		log.Info("cancel pressed on a song that has started")
		b.respondEphemeral(ctx, log, in.Interaction, tr.Text(i18n.CancelStarted))
		return
	case errors.Is(err, storage.ErrNotFound):
		log.Info("cancel pressed on a song that is no longer waiting")
		b.respondEphemeral(ctx, log, in.Interaction, tr.Text(i18n.CancelGone))
		return
	case err != nil:
		log.Error("cannot cancel the song (is the store reachable?)", "err", err)
		b.respondEphemeral(ctx, log, in.Interaction, tr.Text(i18n.StoreFailed))
		return
	}
	log.Info("queued song cancelled", "by_requester", user == job.UserID)
	if b.opts.OnJobDone != nil {
		defer b.opts.OnJobDone(job.ID, JobCancelled)
	}
	b.metrics.JobFinished(JobCancelled, b.now().Sub(job.InteractionAt))
	rt := b.replyTexts(job)
	text := rt.Format(i18n.Cancelled, i18n.Args{"Prompt": quotePrompt(job.Prompt)})
	if user != job.UserID {
		text = rt.Format(i18n.CancelledBy, i18n.Args{"User": "<@" + user + ">", "Prompt": quotePrompt(job.Prompt)})
	}
	err = b.discord.Respond(ctx, in.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseUpdateMessage,
		Data: &discordgo.InteractionResponseData{
			Content: truncate(text, maxContent), Components: []discordgo.MessageComponent{}, AllowedMentions: noMentions(),
		},
	})
	if err != nil {
		// The song is cancelled whatever the message says; the
		// reply's own token can still fix the message.
		log.Warn("could not update the cancelled song's message; editing its reply instead", "err", err)
		replyTo(b.discord, job).editText(ctx, log, text)
	}
}
