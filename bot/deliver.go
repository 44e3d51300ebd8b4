package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// delivery is the final state of a user's reply: the song, or why there is
// none.
type delivery struct {
	outcome    string // completed, failed, timed_out, not_found
	content    string
	embeds     []*discordgo.MessageEmbed
	components []discordgo.MessageComponent
	// audioURL, when set, is downloaded and attached so Discord shows a
	// player; without it (or when the download fails) the link remains.
	audioURL string
	// notice opens the fallback message posted when the reply cannot be
	// edited any more; it follows a mention of the requester.
	notice string
}

func songDelivery(job storage.Job, r *whisul.Result) delivery {
	return delivery{
		outcome:    "completed",
		embeds:     []*discordgo.MessageEmbed{songEmbed(r, job.Prompt)},
		components: songButtons(r.SongURL, job.ID),
		audioURL:   r.SongURL,
		notice:     "your song is ready! 🎶",
	}
}

func failedDelivery(whisulError string) delivery {
	return delivery{outcome: "failed", content: failedText(whisulError), notice: "about your `/song`:"}
}

func timedOutDelivery() delivery {
	return delivery{outcome: "timed_out", content: msgTimedOut, notice: "about your `/song`:"}
}

func rejectedDelivery(err error) delivery {
	return delivery{outcome: "rejected", content: userMessage(err), notice: "about your `/song`:"}
}

func notFoundDelivery() delivery {
	return delivery{outcome: "not_found", content: msgNotFound, notice: "about your `/song`:"}
}

// editAttempts bounds retries of a failing edit before falling back.
const editAttempts = 3

// finishBudget bounds removing a job and sending its fallback message once
// the edit is done. It outlives a cancelled context: a job removed from the
// store must still reach its user. Shutdown waits for it on top of
// ShutdownGrace.
const finishBudget = 3 * time.Second

// deliver shows the outcome to the user and removes the job. Editing the
// reply is idempotent, so it comes first; the fallback message is not, so
// only the caller that removed the job sends it.
func (b *Bot) deliver(ctx context.Context, job storage.Job, d delivery) {
	log := b.jobLog(job).With("outcome", d.outcome)
	// A fresh lease for the delivery: the poll may have used most of its
	// own, and an audio download takes a while.
	job.NextPollAt = b.now().Add(b.lease())
	if err := b.store.Reschedule(ctx, job.ID, job.State); err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			log.Error("could not hold the job for its delivery; it is polled again later", "err", err)
		}
		return // not found: another process delivered it
	}
	ctx, cancel := context.WithTimeout(b.workCtx, b.lease()*9/10)
	defer cancel()

	var audio *discordgo.File
	if d.audioURL != "" {
		// At most half the time left, so the edit always has its turn.
		deadline, _ := ctx.Deadline()
		actx, cancelAudio := context.WithTimeout(ctx, min(b.opts.AudioTimeout, time.Until(deadline)/2))
		var release func()
		audio, release = b.fetchAudio(actx, log, job, d.audioURL)
		cancelAudio()
		defer release() // the slot bounds the audio held, until it is uploaded
	}
	editErr := errTokenExpired
	if b.tokenAlive(job) {
		editErr = b.editFinal(ctx, job, d, audio)
		if editErr != nil && audio != nil && !tokenGone(editErr) && ctx.Err() == nil {
			// Discord may refuse the file itself (too large for this
			// server, say): the song still goes out, as a link.
			log.Warn("the edit with the audio attached failed; sending the link alone", "err", editErr)
			audio = nil
			editErr = b.editFinal(ctx, job, d, nil)
		}
	}

	after, cancelAfter := context.WithTimeout(context.WithoutCancel(ctx), finishBudget)
	defer cancelAfter()
	removed, err := b.store.Finish(after, job.ID)
	if err != nil {
		log.Error("could not remove a delivered job; it will be delivered again", "err", err)
		return
	}
	if !removed {
		return // another process delivered it
	}
	if b.opts.OnJobDone != nil {
		defer b.opts.OnJobDone(job.ID, d.outcome)
	}
	took := b.now().Sub(job.SubmittedAt)
	if job.SubmittedAt.IsZero() {
		took = b.now().Sub(job.InteractionAt)
	}
	b.metrics.JobFinished(d.outcome, took)
	if editErr == nil {
		log.Info("job delivered", "took", took.Round(time.Millisecond))
		return
	}
	log.Info("reply cannot be edited; sending the result as a new message", "reason", editErr)
	where, err := b.sendFallback(after, job, d, audio)
	b.metrics.Fallback(where)
	if err != nil {
		log.Error("could not deliver the result anywhere", "err", err)
		return
	}
	log.Info("job delivered by fallback message", "where", where)
}

// fetchAudio downloads the song for attachment, or returns nil (and logs
// why) so the link alone goes out. release frees the download slot.
func (b *Bot) fetchAudio(ctx context.Context, log *slog.Logger, job storage.Job, songURL string) (audio *discordgo.File, release func()) {
	f, release, err := b.audio.fetchHeld(ctx, songURL, job.AttachmentLimit)
	if err != nil {
		log.Info("audio not attached; sending the link alone", "reason", audioFallbackReason(err), "err", err)
		return nil, release
	}
	return f, release
}

// files returns audio, rewound, as a request's files; nil for none.
func files(audio *discordgo.File) []*discordgo.File {
	if audio == nil {
		return nil
	}
	if r, ok := audio.Reader.(io.Seeker); ok {
		r.Seek(0, io.SeekStart) // a retry sends the same bytes again
	}
	return []*discordgo.File{audio}
}

// editFinal edits the reply, retrying transient failures a few times.
func (b *Bot) editFinal(ctx context.Context, job storage.Job, d delivery, audio *discordgo.File) error {
	content := truncate(d.content, maxContent)
	embeds := d.embeds
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	components := d.components
	if components == nil {
		components = []discordgo.MessageComponent{}
	}
	edit := &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, Components: &components, AllowedMentions: noMentions()}
	var err error
	for attempt := range editAttempts {
		edit.Files = files(audio)
		if err = editOriginal(ctx, b.session, job.AppID, job.InteractionToken, edit); err == nil {
			return nil
		}
		b.metrics.DiscordEditFailed()
		if !transient(err) || ctx.Err() != nil {
			return err
		}
		b.log.Warn("editing the reply failed; retrying", "job_id", job.ID, "err", err)
		if !sleep(ctx, time.Duration(attempt+1)*time.Second) {
			return ctx.Err()
		}
	}
	return err
}

// sendFallback posts the outcome where the user will see it when the reply
// can no longer be edited: in the interaction's channel, mentioning only the
// requester, or else in a DM; with the audio if Discord takes it, else with
// the link alone. A private song goes to a DM only. It returns where the
// message went: channel, dm, or lost.
func (b *Bot) sendFallback(ctx context.Context, job storage.Job, d delivery, audio *discordgo.File) (string, error) {
	content := "<@" + job.UserID + ">, " + d.notice
	if d.content != "" {
		content += "\n" + d.content
	}
	send := func(channelID string, audio *discordgo.File) error {
		_, err := b.session.ChannelMessageSendComplex(channelID, &discordgo.MessageSend{
			Content:         truncate(content, maxContent),
			Embeds:          d.embeds,
			Components:      d.components,
			Files:           files(audio),
			AllowedMentions: onlyUser(job.UserID),
		}, discordgo.WithContext(ctx))
		if err != nil && audio != nil && ctx.Err() == nil {
			b.log.Info("posting with the audio attached failed; trying the link alone", "job_id", job.ID, "err", redact(err))
			_, err = b.session.ChannelMessageSendComplex(channelID, &discordgo.MessageSend{
				Content: truncate(content, maxContent), Embeds: d.embeds, Components: d.components, AllowedMentions: onlyUser(job.UserID),
			}, discordgo.WithContext(ctx))
		}
		return redact(err)
	}
	var chanErr error
	if !job.Ephemeral && job.ChannelID != "" {
		if chanErr = send(job.ChannelID, audio); chanErr == nil {
			return "channel", nil
		}
		b.log.Info("cannot post in the channel; trying a DM", "job_id", job.ID, "err", chanErr)
	}
	dm, err := b.session.UserChannelCreate(job.UserID, discordgo.WithContext(ctx))
	if err == nil {
		err = send(dm.ID, audio)
	}
	if err == nil {
		return "dm", nil
	}
	return "lost", errors.Join(chanErr, redact(err))
}

// sleep waits d or until ctx ends, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
