package bot

import (
	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
)

// Who reads what, and so in which language it is written: what only the
// requester sees (ephemeral replies, refusals, DMs) in their own locale;
// what everyone in a server sees (a public song's reply, channel
// fallbacks, the showcase post) in the server's locale when the catalogue
// has it, else in the requester's when it has that, else in English. The
// locales travel with the job in the store, so a song delivered later, by
// another process or after a restart, is written as its request was.

// userTexts writes for the interaction's user alone.
func (b *Bot) userTexts(in *discordgo.Interaction) *i18n.Printer {
	return b.texts.For(string(in.Locale))
}

// requesterTexts writes for the job's requester alone: a DM.
func (b *Bot) requesterTexts(job storage.Job) *i18n.Printer {
	return b.texts.For(job.Locale)
}

// replyTexts writes the job's reply: for the requester when it is private
// or outside a server, else for the server.
func (b *Bot) replyTexts(job storage.Job) *i18n.Printer {
	if job.Ephemeral || job.GuildID == "" {
		return b.requesterTexts(job)
	}
	return b.texts.For(job.GuildLocale, job.Locale)
}

// guildLocale is the interaction's guild_locale, "" outside servers.
func guildLocale(in *discordgo.Interaction) string {
	if in.GuildLocale == nil {
		return ""
	}
	return string(*in.GuildLocale)
}

// localizations is a command or option text in every catalogue locale,
// as Discord's description_localizations. It is part of the definitions'
// hash, so a changed translation registers the commands again once.
func (b *Bot) localizations(id i18n.ID) *map[discordgo.Locale]string {
	m := map[discordgo.Locale]string{}
	for locale, text := range b.texts.Localizations(id) {
		m[discordgo.Locale(locale)] = text
	}
	return &m
}
