package bot

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
)

// Admitter applies the fair-use limits across processes: it admits a job
// (running or queued) or refuses it, and later moves queued jobs into
// freed slots. storage.Redis and storage.Bolt implement it.
type Admitter interface {
	// Admit checks job against limits and stores it in the same step.
	Admit(ctx context.Context, now time.Time, job storage.Job, limits storage.Limits) (storage.Admission, error)
	// AdmitFromSong is Admit with the prompt of the history's song ref,
	// read in the same step: Regenerate's one round trip.
	AdmitFromSong(ctx context.Context, now time.Time, job storage.Job, ref string, limits storage.Limits) (storage.Admission, error)
	// Promote moves queued jobs into free running slots, due at now, and
	// returns their ids.
	Promote(ctx context.Context, now time.Time, limits storage.Limits) ([]string, error)
}

// policy holds the checks that need no store: where the bot works, who
// may use it and which words prompts may not contain.
type policy struct {
	allowedGuilds []string
	allowDMs      bool // with allowedGuilds set, DMs and private channels still work
	blockedUsers  []string
	words         wordFilter
}

// refuse returns why a request is refused, or "".
func (p policy) refuse(guildID, userID, prompt string) RefusalReason {
	switch {
	case guildID == "" && len(p.allowedGuilds) > 0 && !p.allowDMs:
		return RefusedDMNotAllowed
	case guildID != "" && len(p.allowedGuilds) > 0 && !slices.Contains(p.allowedGuilds, guildID):
		return RefusedGuildNotAllowed
	case slices.Contains(p.blockedUsers, userID):
		return RefusedBlockedUser
	case p.words.blocks(prompt):
		return RefusedBlockedWord
	}
	return ""
}

// refusalText tells the user, in plain words, which limit applied and,
// where it frees by itself, when. adm is the store's verdict: the limits
// it applied (the server's overrides in place) and the pause reason.
func refusalText(tr *i18n.Printer, reason RefusalReason, adm storage.Admission) string {
	limits := adm.Limits
	when := i18n.Args{"When": relative(tr, adm.RetryAt)}
	switch reason {
	case RefusedGuildNotAllowed:
		return tr.Text(i18n.RefusedGuild)
	case RefusedDMNotAllowed:
		return tr.Text(i18n.RefusedDM)
	case RefusedPaused:
		if adm.PauseReason == "" {
			return tr.Text(i18n.RefusedPaused)
		}
		return tr.Format(i18n.RefusedPausedReason, i18n.Args{"Reason": quotePrompt(adm.PauseReason)})
	case RefusedGuildDaily:
		return tr.Plural(i18n.RefusedGuildDaily, limits.GuildDailyLimit, when)
	case RefusedBotDaily:
		return tr.Format(i18n.RefusedBotDaily, when)
	case RefusedBlockedUser:
		return tr.Text(i18n.RefusedUser)
	case RefusedBlockedWord:
		return tr.Text(i18n.RefusedWord)
	case RefusedUserActive:
		return tr.Plural(i18n.RefusedUserActive, limits.UserMaxActive, nil)
	case RefusedCooldown:
		return tr.Format(i18n.RefusedCooldown, when)
	case RefusedDaily:
		return tr.Plural(i18n.RefusedDaily, limits.UserDailyLimit, when)
	case RefusedGuildActive:
		return tr.Plural(i18n.RefusedGuildActive, limits.GuildMaxActive, nil)
	case RefusedQueueFull:
		return tr.Plural(i18n.RefusedQueueFull, limits.MaxQueued, nil)
	}
	return tr.Text(i18n.Internal)
}

// queuedText is the reply of a song waiting for a free slot: its place in
// line, as an ordinal of the reader's language.
func queuedText(tr *i18n.Printer, prompt string, position int) string {
	return tr.Format(i18n.Queued, i18n.Args{"Position": tr.Ordinal(i18n.InLine, position, nil), "Prompt": quotePrompt(prompt)})
}

// relative is Discord's relative time markup ("in 12 seconds"), which
// clients keep up to date by themselves, in their own language.
func relative(tr *i18n.Printer, t time.Time) string {
	if t.IsZero() {
		return tr.Text(i18n.Soon)
	}
	return fmt.Sprintf("<t:%d:R>", t.Unix())
}
