package bot

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// delivery is the final state of a user's reply: the song, or why there is
// none. Its words are written when it is sent, in the language of whoever
// reads that message (see locale.go): the reply and a channel fallback may
// be for a server, a DM for the requester.
type delivery struct {
	outcome JobOutcome
	// render writes the message in one language.
	render func(tr *i18n.Printer) message
	// audioURL, when set, is downloaded and attached so Discord shows a
	// player; without it (or when the download fails) the link remains.
	audioURL string
	// notice opens the fallback message posted when the reply cannot be
	// edited any more, with a mention of the requester.
	notice i18n.ID
	// song is the finished song, for the server's showcase; nil for the
	// other outcomes.
	song *whisul.Result
}

// message is a delivery in words.
type message struct {
	content    string
	embeds     []*discordgo.MessageEmbed
	components []discordgo.MessageComponent
}

func songDelivery(job storage.Job, r *whisul.Result) delivery {
	return delivery{
		outcome: JobCompleted,
		render: func(tr *i18n.Printer) message {
			return message{
				embeds:     []*discordgo.MessageEmbed{songEmbed(tr, r, job.Prompt)},
				components: songButtons(tr, r.SongURL, job.ID),
			}
		},
		audioURL: r.SongURL,
		notice:   i18n.NoticeReady,
		song:     r,
	}
}

// textDelivery is an outcome told in words alone.
func textDelivery(outcome JobOutcome, text func(tr *i18n.Printer) string) delivery {
	return delivery{
		outcome: outcome,
		render:  func(tr *i18n.Printer) message { return message{content: text(tr)} },
		notice:  i18n.NoticeAbout,
	}
}

func failedDelivery(whisulError string) delivery {
	return textDelivery(JobFailed, func(tr *i18n.Printer) string { return failedText(tr, whisulError) })
}

func timedOutDelivery() delivery {
	return textDelivery(JobTimedOut, func(tr *i18n.Printer) string { return tr.Text(i18n.TimedOut) })
}

func rejectedDelivery(err error) delivery {
	return textDelivery(JobRejected, func(tr *i18n.Printer) string { return userMessage(tr, err) })
}

func notFoundDelivery() delivery {
	return textDelivery(JobNotFound, func(tr *i18n.Printer) string { return tr.Text(i18n.NotFound) })
}

// editAttempts bounds the attempts of a failing final edit before falling
// back; see shouldRetry for which failures are retried and how long apart.
const editAttempts = 5

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
	if !b.stillHeld(ctx, log, job.ID) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, b.workBudget())
	defer cancel()
	if d.song != nil {
		// Kept before the reply shows the song's Regenerate button. (Kept
		// while the audio downloads instead, in a goroutine of its own,
		// 5,000 songs finishing at once took more memory and longer.)
		b.remember(ctx, job, d.song)
	}

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
	r := replyTo(b.discord, job)
	editErr := errTokenExpired
	if r.live(b.now()) {
		shown := d.render(b.replyTexts(job))
		audio, editErr = orLinkAlone(ctx, log, audio, func(audio *discordgo.File) error {
			return b.editFinal(ctx, log, r, shown, audio)
		})
	}

	after, cancelAfter := context.WithTimeout(context.WithoutCancel(ctx), finishBudget)
	defer cancelAfter()
	removed, err := b.queue.Finish(after, job.ID)
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
	if d.song != nil {
		b.showcase(after, log, job, d.song)
	}
	if editErr == nil {
		log.Info("job delivered", "took", took.Round(time.Millisecond))
		return
	}
	log.Info("reply cannot be edited; sending the result as a new message", "reason", editErr)
	where, err := r.fallback(after, log, func(channelID string) error {
		tr := b.replyTexts(job)
		if channelID != job.ChannelID {
			tr = b.requesterTexts(job) // a DM
		}
		_, err := orLinkAlone(after, log, audio, func(audio *discordgo.File) error {
			return b.discord.Send(after, channelID, fallbackMessage(tr, job.UserID, d, audio))
		})
		return err
	})
	b.metrics.Fallback(where)
	if err != nil {
		log.Error("could not deliver the result anywhere", "err", err)
		return
	}
	log.Info("job delivered by fallback message", "where", where)
}

// stillHeld reports whether this process holds job id's lease for its
// delivery; the heartbeat renews it while the delivery lasts. A lease
// with more than half its time left, which the claim, the admission or
// the heartbeat took or renewed moments ago, is proof enough: no other
// process may take it before it runs out, and the heartbeat cancels ctx
// at once if the store says otherwise. An older lease, or one this
// process does not hold, is renewed first, which proves it, at the cost
// of a round trip to the store before the user sees the song.
func (b *Bot) stillHeld(ctx context.Context, log *slog.Logger, id string) bool {
	if ctx.Err() == nil && b.leases.left(id, b.now()) > b.lease()/2 {
		return true
	}
	lost, err := b.queue.Extend(ctx, b.now(), b.token, []string{id}, b.lease())
	if err != nil {
		log.Error("could not hold the job for its delivery; it is polled again later", "err", err)
		return false
	}
	return len(lost) == 0 // else another process holds it, or delivered it
}

// orLinkAlone sends with the audio attached and, when Discord refuses that
// for another reason than a dead token or the end of ctx, once more with
// the link alone: a file too large for this server, say, must not cost the
// user the song. It returns the audio still worth attaching to a later
// message (nil once Discord refused it) and send's last error.
func orLinkAlone(ctx context.Context, log *slog.Logger, audio *discordgo.File, send func(*discordgo.File) error) (*discordgo.File, error) {
	err := send(audio)
	if err == nil || audio == nil || tokenGone(err) || ctx.Err() != nil {
		return audio, err
	}
	log.Warn("sending with the audio attached failed; sending the link alone", "err", err)
	return nil, send(nil)
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

// editFinal edits the reply, retrying 5xx, 429 and network failures with
// backoff (retryEdit). Editing @original is idempotent, so a retry of an
// edit Discord did apply shows the same song once.
func (b *Bot) editFinal(ctx context.Context, log *slog.Logger, r reply, d message, audio *discordgo.File) error {
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
	return retryEdit(ctx, log, editAttempts, b.metrics.DiscordEditFailed, func() error {
		edit.Files = files(audio)
		return r.edit(ctx, edit)
	})
}

// fallbackMessage is the outcome as a new message for the requester,
// mentioning only them.
func fallbackMessage(tr *i18n.Printer, userID string, d delivery, audio *discordgo.File) *discordgo.MessageSend {
	m := d.render(tr)
	content := tr.Format(d.notice, i18n.Args{"User": "<@" + userID + ">"})
	if m.content != "" {
		content += "\n" + m.content
	}
	return &discordgo.MessageSend{
		Content:         truncate(content, maxContent),
		Embeds:          m.embeds,
		Components:      m.components,
		Files:           files(audio),
		AllowedMentions: onlyUser(userID),
	}
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
