package bot

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/songbot-dev/songbot/storage"
)

// Admitter applies the fair-use limits across processes: it admits a job
// (running or queued) or refuses it, and later moves queued jobs into
// freed slots. storage.Redis and storage.Bolt implement it.
type Admitter interface {
	// Admit checks job against limits and stores it in the same step.
	Admit(ctx context.Context, now time.Time, job storage.Job, limits storage.Limits) (storage.Admission, error)
	// Promote moves queued jobs into free running slots, due at now, and
	// returns their ids.
	Promote(ctx context.Context, now time.Time, limits storage.Limits) ([]string, error)
}

// policy holds the checks that need no store: where the bot works, who
// may use it and which words prompts may not contain.
type policy struct {
	allowedGuilds []string
	blockedUsers  []string
	words         wordFilter
}

// refuse returns why a request is refused, or "".
func (p policy) refuse(guildID, userID, prompt string) RefusalReason {
	switch {
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
// where it frees by itself, when.
func refusalText(reason RefusalReason, limits storage.Limits, retryAt time.Time) string {
	switch reason {
	case RefusedGuildNotAllowed:
		return "🔒 Sorry, I'm not set up to make songs in this server."
	case RefusedBlockedUser:
		return "🔒 Sorry, you can't make songs with this bot."
	case RefusedBlockedWord:
		return "✏️ Your description contains a word that isn't allowed here. Please describe the song differently."
	case RefusedUserActive:
		return fmt.Sprintf("🎶 You already have %s on the way. You can ask for another as soon as one is done.", plural(limits.UserMaxActive, "song"))
	case RefusedCooldown:
		return fmt.Sprintf("⏳ Please wait a little between songs. You can ask again %s.", relative(retryAt))
	case RefusedDaily:
		return fmt.Sprintf("📅 You've made %s today, the daily limit. You can make more %s.", plural(limits.UserDailyLimit, "song"), relative(retryAt))
	case RefusedGuildActive:
		return fmt.Sprintf("🎶 This server already has %s on the way. Please try again when one is done.", plural(limits.GuildMaxActive, "song"))
	case RefusedQueueFull:
		return fmt.Sprintf("🚦 The queue is full right now (%s waiting). Please try again in a few minutes.", plural(limits.MaxQueued, "song"))
	}
	return msgInternal
}

// queuedText is the reply of a song waiting for a free slot.
func queuedText(prompt string, position int) string {
	return fmt.Sprintf("🕒 Lots of songs are being made right now, so yours is **%s in line**. It starts as soon as a spot frees up, and this message will update.\n> %s",
		ordinal(position), quotePrompt(prompt))
}

// relative is Discord's relative time markup ("in 12 seconds"), which
// clients keep up to date by themselves.
func relative(t time.Time) string {
	if t.IsZero() {
		return "soon"
	}
	return fmt.Sprintf("<t:%d:R>", t.Unix())
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ordinal writes 1st, 2nd, 3rd, 4th, 11th, 21st...
func ordinal(n int) string {
	suffix := "th"
	switch n % 100 {
	case 11, 12, 13:
	default:
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
