package bot

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
)

// UserStanding is what /songs reads of a user's songs on the way and
// limits. storage.Redis and storage.Bolt implement it.
type UserStanding interface {
	// UserJobs returns the user's running and queued jobs, running first.
	UserJobs(ctx context.Context, userID string) ([]storage.ActiveJob, error)
	// Usage returns today's counts of the user, the server and the bot,
	// and the user's cooldown.
	Usage(ctx context.Context, now time.Time, userID, guildID string) (storage.Usage, error)
}

// standing is what /songs shows a user: their latest songs and, above
// them, what they have on the way and what their limits leave them today.
type standing struct {
	songs   []storage.Song
	active  []storage.ActiveJob
	usage   storage.Usage
	limits  storage.Limits // the limits in force where they asked
	inGuild bool           // asked in a server, where its daily limit applies
}

// standingOf reads a user's standing with its four reads in parallel, so
// /songs waits for one store round trip, bounded like an admission.
func (b *Bot) standingOf(ctx context.Context, userID, guildID string) (standing, error) {
	ctx, cancel := context.WithTimeout(ctx, admitTimeout)
	defer cancel()
	st := standing{limits: b.opts.Limits, inGuild: guildID != ""}
	var settings storage.GuildSettings
	reads := []func() error{
		func() (err error) { st.songs, err = b.history.Songs(ctx, userID, songsListed); return err },
		func() (err error) { st.active, err = b.standings.UserJobs(ctx, userID); return err },
		func() (err error) { st.usage, err = b.standings.Usage(ctx, b.now(), userID, guildID); return err },
	}
	if guildID != "" {
		reads = append(reads, func() (err error) { settings, err = b.settings.GuildSettings(ctx, guildID); return err })
	}
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Go(func() { errs[i] = read() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return standing{}, err
	}
	st.limits = settings.Overrides.Apply(st.limits)
	return st, nil
}

// standingText is /songs' head: the songs on the way (with their place in
// line), how many more songs today allows, and when the cooldown ends; ""
// when there is nothing to say.
func standingText(tr *i18n.Printer, st standing, now time.Time) string {
	var lines []string
	if len(st.active) > 0 {
		lines = append(lines, tr.Text(i18n.SongsActiveTitle))
		for _, j := range st.active {
			prompt := quotePrompt(truncate(j.Prompt, 100))
			if j.Queued {
				lines = append(lines, tr.Format(i18n.SongsActiveQueued, i18n.Args{"Position": tr.Ordinal(i18n.InLine, j.Position, nil), "Prompt": prompt}))
			} else {
				lines = append(lines, tr.Format(i18n.SongsActiveRunning, i18n.Args{"Prompt": prompt}))
			}
		}
	}
	if left, limited := songsLeft(st); limited {
		if left > 0 {
			lines = append(lines, tr.Plural(i18n.SongsLeftToday, left, nil))
		} else {
			lines = append(lines, tr.Format(i18n.SongsNoneLeft, i18n.Args{"When": relative(tr, storage.NextUTCMidnight(now))}))
		}
	}
	if st.usage.CooldownUntil.After(now) {
		lines = append(lines, tr.Format(i18n.SongsCooldown, i18n.Args{"When": relative(tr, st.usage.CooldownUntil)}))
	}
	return strings.Join(lines, "\n")
}

// songsLeft is the fewest songs any daily limit still allows today, and
// whether any daily limit applies.
func songsLeft(st standing) (left int, limited bool) {
	left = -1
	limits := []struct{ limit, used int }{
		{st.limits.UserDailyLimit, st.usage.UserToday},
		{st.limits.DailyLimit, st.usage.BotToday},
	}
	if st.inGuild {
		limits = append(limits, struct{ limit, used int }{st.limits.GuildDailyLimit, st.usage.GuildToday})
	}
	for _, c := range limits {
		if c.limit <= 0 {
			continue
		}
		if n := max(c.limit-c.used, 0); left < 0 || n < left {
			left = n
		}
	}
	return max(left, 0), left >= 0
}
