package bot

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
)

// adminLimits shows the limits in force in the server or, with options,
// changes the server's overrides first. An override replaces the
// operator's per-user or per-server limit here, tighter or looser; the
// global limits (MAX_RUNNING, MAX_QUEUED, DAILY_LIMIT) have no override.
func (b *Bot) adminLimits(ctx context.Context, log *slog.Logger, tr *i18n.Printer, guildID string, opts []*discordgo.ApplicationCommandInteractionDataOption) (string, error) {
	change, changed := limitChange(opts)
	reset := boolOption(opts, "reset")
	if !changed && !reset {
		s, err := b.settings.GuildSettings(ctx, guildID)
		if err != nil {
			return "", err
		}
		return b.limitsText(tr, i18n.AdminLimitsShown, s.Overrides), nil
	}
	s, err := b.settings.UpdateGuildSettings(ctx, guildID, func(s *storage.GuildSettings) {
		if reset {
			s.Overrides = storage.Overrides{}
		}
		change(&s.Overrides)
	})
	if err != nil {
		return "", err
	}
	log.Info("server limits changed by an admin", "reset", reset, "overrides", overridesLog(s.Overrides))
	heading := i18n.AdminLimitsChanged
	if reset && !changed {
		heading = i18n.AdminLimitsReset
	}
	return b.limitsText(tr, heading, s.Overrides), nil
}

// limitChange reads the options given into a change of the overrides.
func limitChange(opts []*discordgo.ApplicationCommandInteractionDataOption) (change func(*storage.Overrides), changed bool) {
	var sets []func(*storage.Overrides)
	count := func(name string, field func(*storage.Overrides) **int) {
		if v, ok := intOption(opts, name); ok {
			sets = append(sets, func(o *storage.Overrides) { *field(o) = &v })
		}
	}
	count("user_active", func(o *storage.Overrides) **int { return &o.UserMaxActive })
	count("user_daily", func(o *storage.Overrides) **int { return &o.UserDailyLimit })
	count("guild_active", func(o *storage.Overrides) **int { return &o.GuildMaxActive })
	count("guild_daily", func(o *storage.Overrides) **int { return &o.GuildDailyLimit })
	if v, ok := intOption(opts, "user_cooldown"); ok {
		d := seconds(min(v, maxCooldownSeconds))
		sets = append(sets, func(o *storage.Overrides) { o.UserCooldown = &d })
	}
	return func(o *storage.Overrides) {
		for _, set := range sets {
			set(o)
		}
	}, len(sets) > 0
}

// limitsText lists the limits in force in a server: its overrides in
// place of the operator's values, marked as set here, then the operator's
// global limits.
func (b *Bot) limitsText(tr *i18n.Printer, heading i18n.ID, o storage.Overrides) string {
	l := o.Apply(b.opts.Limits)
	count := func(n int) string {
		if n <= 0 {
			return tr.Text(i18n.LimitOff)
		}
		return strconv.Itoa(n)
	}
	line := func(id i18n.ID, value string, here bool) string {
		if here {
			value += " " + tr.Text(i18n.LimitSetHere)
		}
		return "• " + tr.Format(id, i18n.Args{"Value": value})
	}
	cooldown := tr.Text(i18n.LimitOff)
	if l.UserCooldown > 0 {
		cooldown = tr.Plural(i18n.Seconds, int((l.UserCooldown+time.Second-1)/time.Second), nil)
	}
	return wholeLines([]string{
		tr.Text(heading),
		line(i18n.LimitUserActive, count(l.UserMaxActive), o.UserMaxActive != nil),
		line(i18n.LimitUserCooldown, cooldown, o.UserCooldown != nil),
		line(i18n.LimitUserDaily, count(l.UserDailyLimit), o.UserDailyLimit != nil),
		line(i18n.LimitGuildActive, count(l.GuildMaxActive), o.GuildMaxActive != nil),
		line(i18n.LimitGuildDaily, count(l.GuildDailyLimit), o.GuildDailyLimit != nil),
		tr.Format(i18n.LimitGlobal, i18n.Args{"Running": count(l.MaxRunning), "Queued": count(l.MaxQueued), "Daily": count(l.DailyLimit)}),
	})
}

// overridesLog is the overrides set, for the log line of a change.
func overridesLog(o storage.Overrides) slog.Value {
	var attrs []slog.Attr
	add := func(name string, v *int) {
		if v != nil {
			attrs = append(attrs, slog.Int(name, *v))
		}
	}
	add("user_active", o.UserMaxActive)
	add("user_daily", o.UserDailyLimit)
	add("guild_active", o.GuildMaxActive)
	add("guild_daily", o.GuildDailyLimit)
	if o.UserCooldown != nil {
		attrs = append(attrs, slog.Duration("user_cooldown", *o.UserCooldown))
	}
	return slog.GroupValue(attrs...)
}

// wholeLines joins lines until the next would pass Discord's message
// limit: a list is cut between lines, never inside a mention or a link.
func wholeLines(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			l = "\n" + l
		}
		if utf8.RuneCountInString(b.String())+utf8.RuneCountInString(l) > maxContent {
			break
		}
		b.WriteString(l)
	}
	return b.String()
}
