package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
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
	en := b.texts.For(i18n.Source)
	return command{
		def: &discordgo.ApplicationCommand{
			Name:                     SongCommandName,
			Type:                     discordgo.ChatApplicationCommand,
			Description:              en.Text(i18n.CmdSong),
			DescriptionLocalizations: b.localizations(i18n.CmdSong),
			Options: []*discordgo.ApplicationCommandOption{{
				Type:                     discordgo.ApplicationCommandOptionString,
				Name:                     "prompt",
				Description:              en.Text(i18n.CmdSongPrompt),
				DescriptionLocalizations: *b.localizations(i18n.CmdSongPrompt),
				Required:                 true,
				MinLength:                &minLen,
				MaxLength:                promptMax,
			}, {
				Type:                     discordgo.ApplicationCommandOptionBoolean,
				Name:                     "private",
				Description:              en.Text(i18n.CmdSongPrivate),
				DescriptionLocalizations: *b.localizations(i18n.CmdSongPrivate),
			}},
			Contexts:         everywhere,
			IntegrationTypes: guildAndUserInstall,
		},
		handle: func(ctx context.Context, in incoming) {
			opts := in.ApplicationCommandData().Options
			b.request(ctx, in, ask{prompt: stringOption(opts, "prompt"), private: boolOption(opts, "private")})
		},
	}
}

// ask is what a request wants made: /song's prompt, or the prompt of a
// finished song (Regenerate), which the admission reads from the store.
type ask struct {
	prompt   string // /song's; for Regenerate, empty until admitted
	fromSong string // the song Regenerate makes again; empty for /song
	private  bool
}

// request starts a song for the interaction's user: for /song, and for a
// Regenerate button. Checks that need no I/O come first, then one store
// round trip applies the limits and stores the job; only then is the
// interaction acknowledged (a refusal must be ephemeral, which a deferral
// cannot change later). Whisul is called after the acknowledgement.
func (b *Bot) request(ctx context.Context, in incoming, a ask) {
	received := b.now()
	answered := b.acks.begin()
	defer answered()
	user := userID(in.Interaction)
	log := b.log.With("interaction_id", in.ID, "guild_id", in.GuildID, "user_id", user)

	tr := b.userTexts(in.Interaction)
	if a.fromSong == "" { // a Regenerate's prompt was checked when it was made
		if problem := b.checkPrompt(tr, a.prompt); problem != "" {
			b.metrics.Interaction(InteractionInvalidPrompt)
			b.respondEphemeral(ctx, log, in.Interaction, problem)
			return
		}
	}
	if reason := b.policy.refuse(in.GuildID, user, a.prompt); reason != "" {
		b.refuse(ctx, log, in.Interaction, reason, storage.Admission{})
		return
	}
	// Hidden from the poll loop while this handler submits it; if the
	// process dies first, the loop submits it when this runs out.
	start, skew := tokenStart(in.ID, received)
	b.clock.observe(b.log, skew)
	job := newJob(in, user, a.prompt, a.private, start, received.Add(b.lease()))
	job.Lease = b.token
	adm, err := b.admitWithin(ctx, log, received, job, a.fromSong)
	switch {
	case a.fromSong != "" && errors.Is(err, storage.ErrNotFound):
		b.expiredSong(ctx, log, in.Interaction, tr)
		return
	case err != nil:
		log.Error("cannot check the limits or store the job; /song is refused until the store answers (check REDIS_URL, or DATA_DIR for the embedded store)", "err", err)
		b.metrics.Interaction(InteractionError)
		b.respondEphemeral(ctx, log, in.Interaction, tr.Text(i18n.StoreDown))
		return
	case adm.Refused != "":
		b.refuse(ctx, log, in.Interaction, RefusalReason(adm.Refused), adm)
		return
	case adm.Duplicate:
		b.duplicate(ctx, log, in.Interaction, a.private)
		return
	}
	if a.fromSong != "" {
		job.Prompt = adm.Prompt
		if b.blockedSinceMade(ctx, log, in.Interaction, job, adm) {
			return
		}
	}

	var flags discordgo.MessageFlags
	if a.private {
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
	log.Debug("acknowledged", "latency", b.now().Sub(received), "private", a.private)
	// Let the other songs of a burst be answered before this one's work.
	answered()
	b.acks.wait(ctx, ackHoldMax)

	if adm.Queued {
		log.Info("job queued", "job_id", job.ID, "position", adm.Position)
		tr := b.replyTexts(job)
		replyTo(b.discord, job).editWith(ctx, log, queuedText(tr, job.Prompt, adm.Position), cancelComponents(tr, job))
		return
	}
	// The submission is work on the job: the heartbeat renews its lease.
	held, release := b.leases.hold(ctx, job.ID, received.Add(b.lease()))
	defer release()
	b.start(held, job)
}

// admitTimeout bounds the admission's store round trip, so that /song is
// answered within Discord's 3 s even when the store hangs (a TCP connect
// to a host that is gone, a frozen Redis). It leaves 1.5 s for the
// response itself. A healthy store answers in a millisecond or two.
const admitTimeout = 1500 * time.Millisecond

// admitWithin runs the admission, giving up after admitTimeout. The store
// call itself goes on in the background, since not every store stops at
// the context's deadline (bbolt waits for its write lock; a go-redis
// client built without ContextTimeoutEnabled, as NewRedis may be given,
// waits its read timeout), and if it stores the job after all, the job is
// removed again: the user was told to try again, and no song must start
// that nobody waits for.
func (b *Bot) admitWithin(ctx context.Context, log *slog.Logger, now time.Time, job storage.Job, fromSong string) (storage.Admission, error) {
	if !b.begin() {
		return storage.Admission{}, errors.New("shutting down")
	}
	type result struct {
		adm storage.Admission
		err error
	}
	actx, cancel := context.WithTimeout(ctx, admitTimeout)
	done := make(chan result, 1)
	var mu sync.Mutex
	abandoned := false
	go func() {
		defer b.work.Done()
		defer cancel()
		var adm storage.Admission
		var err error
		if fromSong != "" {
			adm, err = b.gate.AdmitFromSong(actx, now, job, fromSong, b.opts.Limits)
		} else {
			adm, err = b.gate.Admit(actx, now, job, b.opts.Limits)
		}
		mu.Lock()
		late := abandoned
		mu.Unlock()
		if !late {
			done <- result{adm, err}
			return
		}
		if err == nil && adm.Refused == "" {
			b.forget(ctx, log, job.ID)
		}
	}()
	select {
	case r := <-done:
		return r.adm, r.err
	case <-actx.Done():
		mu.Lock()
		select {
		case r := <-done: // it answered just in time
			mu.Unlock()
			return r.adm, r.err
		default:
		}
		abandoned = true
		mu.Unlock()
		return storage.Admission{}, fmt.Errorf("storage: admit: no answer within %v: %w", admitTimeout, actx.Err())
	}
}

// forget removes a job whose admission answered after the user was told
// to try again.
func (b *Bot) forget(ctx context.Context, log *slog.Logger, id string) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishBudget)
	defer cancel()
	if _, err := b.queue.Finish(fctx, id); err != nil {
		log.Warn("could not remove a song whose admission answered too late; it is made when the store answers again", "err", err)
		return
	}
	log.Info("removed a song whose admission answered too late; the user was asked to try again")
}

// newJob is the one place a job is built: what the interaction fixed, due
// at due. Fields are set one by one so the code stays the same whether
// storage.Job holds them or an embedded part of it does.
// tokenAt is when the interaction's token started to count (tokenStart).
func newJob(in incoming, user, prompt string, private bool, tokenAt, due time.Time) storage.Job {
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
			InteractionAt:    tokenAt,
			Locale:           string(in.Locale),
			GuildLocale:      guildLocale(in.Interaction),
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
	// Submissions and polls share one budget.
	sent, err := b.limiter.Wait(submitCtx)
	notSent := err != nil // the limiter held it until submitCtx ended
	if !notSent {
		var sub whisul.Submission
		sub, err = b.whisul.Generate(submitCtx, job.Prompt)
		if err == nil {
			b.limiter.Success()
			job.WhisulID, job.PollURL = sub.JobID, sub.PollURL
		}
	}
	cancel()
	switch {
	case notSent && ctx.Err() != nil:
		b.putBack(job)
		return
	case notSent || submitLater(err):
		log.Warn("whisul is rate limiting submissions, or cannot be reached; will try again", "err", err)
		b.retryLater(ctx, job, sent, err)
		b.editLive(ctx, log, job, b.replyTexts(job).Text(i18n.BusyWaiting))
		return
	case err != nil:
		log.Warn("whisul refused the song", "err", err)
		b.deliver(ctx, job, rejectedDelivery(err))
		return
	}
	now := b.now()
	job.SubmittedAt = now
	job.LastError = ""
	job.NextPollAt = now.Add(b.opts.PollInterval)
	if err := b.saveState(ctx, job); err != nil {
		// The job stays due for submission: Whisul may be asked twice.
		log.Error("could not store the Whisul job id (is the store reachable?)", "whisul_id", job.WhisulID, "err", err)
		return
	}
	log.Info("job submitted", "whisul_id", job.WhisulID)
	b.editLive(ctx, log, job, composingText(b.replyTexts(job), job.Prompt, now))
}

// submitLater reports whether a failed submission certainly created no
// job, so the song may wait in the store and be submitted again: Whisul
// said 429, or the connection was never made. The bot's Whisul client
// makes one attempt per call (main sets MaxRetries -1, so every attempt
// passes the limiter); these are the cases its own retries would cover.
func submitLater(err error) bool {
	if errors.Is(err, whisul.ErrRateLimited) {
		return true
	}
	var oe *net.OpError
	return errors.Is(err, whisul.ErrNetwork) && errors.As(err, &oe) && oe.Op == "dial"
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
func (b *Bot) checkPrompt(tr *i18n.Printer, prompt string) string {
	p := strings.TrimSpace(prompt)
	if p == "" {
		return tr.Text(i18n.PromptEmpty)
	}
	if max := b.opts.PromptMaxLength; max > 0 && utf8.RuneCountInString(p) > max {
		return tr.Plural(i18n.PromptTooLong, utf8.RuneCountInString(p), i18n.Args{"Max": max})
	}
	return ""
}

// refuse answers with an ephemeral refusal that says which limit applied;
// adm is the store's verdict, or empty for a refusal of the bot's own.
func (b *Bot) refuse(ctx context.Context, log *slog.Logger, in *discordgo.Interaction, reason RefusalReason, adm storage.Admission) {
	log.Info("song refused", "reason", reason)
	b.metrics.Interaction(InteractionRefused)
	b.metrics.Refused(reason)
	if adm.Limits == (storage.Limits{}) {
		adm.Limits = b.opts.Limits // a refusal before the store, or a store that did not say
	}
	b.respondEphemeral(ctx, log, in, refusalText(b.userTexts(in), reason, adm))
}
