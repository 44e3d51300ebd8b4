package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/bwmarrin/discordgo"

	"songbot/storage"
	"songbot/whisul"
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

// deliver shows the outcome to the user and removes the job. Editing the
// reply is idempotent, so it comes first; the fallback message is not, so
// only the caller that removed the job sends it.
func (b *Bot) deliver(ctx context.Context, job storage.Job, d delivery) {
	log := b.jobLog(job).With("outcome", d.outcome)
	var audio *discordgo.File
	if d.audioURL != "" {
		// The slot bounds how many songs' audio is held in memory at once,
		// from download to upload.
		select {
		case b.audioSlots <- struct{}{}:
			defer func() { <-b.audioSlots }()
			audio = b.fetchAudio(ctx, log, job, d.audioURL)
		case <-ctx.Done():
		}
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
	removed, err := b.store.Finish(ctx, job.ID)
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
	where, err := b.sendFallback(ctx, job, d, audio)
	b.metrics.Fallback(where)
	if err != nil {
		log.Error("could not deliver the result anywhere", "err", err)
		return
	}
	log.Info("job delivered by fallback message", "where", where)
}

// fetchAudio downloads the song for attachment, or returns nil (and logs
// why) so the link alone goes out.
func (b *Bot) fetchAudio(ctx context.Context, log *slog.Logger, job storage.Job, songURL string) *discordgo.File {
	f, err := b.audio.fetch(ctx, songURL, job.AttachmentLimit)
	if err != nil {
		log.Info("audio not attached; sending the link alone", "reason", audioFallbackReason(err), "err", err)
		return nil
	}
	return f
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
// requester, or else in a DM. A private song goes to a DM only.
// It returns where the message went: channel, dm, or lost.
func (b *Bot) sendFallback(ctx context.Context, job storage.Job, d delivery, audio *discordgo.File) (string, error) {
	content := "<@" + job.UserID + ">, " + d.notice
	if d.content != "" {
		content += "\n" + d.content
	}
	msg := &discordgo.MessageSend{
		Content:         truncate(content, maxContent),
		Embeds:          d.embeds,
		Components:      d.components,
		AllowedMentions: onlyUser(job.UserID),
	}
	var chanErr error
	if !job.Ephemeral && job.ChannelID != "" {
		msg.Files = files(audio)
		_, chanErr = b.session.ChannelMessageSendComplex(job.ChannelID, msg, discordgo.WithContext(ctx))
		if chanErr == nil {
			return "channel", nil
		}
		b.log.Info("cannot post in the channel; trying a DM", "job_id", job.ID, "err", redact(chanErr))
	}
	dm, err := b.session.UserChannelCreate(job.UserID, discordgo.WithContext(ctx))
	if err == nil {
		msg.Files = files(audio)
		_, err = b.session.ChannelMessageSendComplex(dm.ID, msg, discordgo.WithContext(ctx))
	}
	if err == nil {
		return "dm", nil
	}
	if audio != nil && ctx.Err() == nil {
		b.log.Info("fallback with the audio attached failed; trying the link alone", "job_id", job.ID, "err", redact(err))
		return b.sendFallback(ctx, job, d, nil)
	}
	return "lost", errors.Join(redact(chanErr), redact(err))
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
