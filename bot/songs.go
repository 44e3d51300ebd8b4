package bot

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
)

// songsListed is how many songs /songs shows.
const songsListed = 10

// songsCommand is /songs: the caller's latest songs, privately.
func (b *Bot) songsCommand() command {
	return command{
		def: &discordgo.ApplicationCommand{
			Name:                     SongsCommandName,
			Type:                     discordgo.ChatApplicationCommand,
			Description:              b.texts.For(i18n.Source).Text(i18n.CmdSongs),
			DescriptionLocalizations: b.localizations(i18n.CmdSongs),
			Contexts:                 everywhere,
			IntegrationTypes:         guildAndUserInstall,
		},
		handle: b.handleSongs,
	}
}

func (b *Bot) handleSongs(ctx context.Context, in incoming) {
	user := userID(in.Interaction)
	log := b.log.With("interaction_id", in.ID, "user_id", user)
	tr := b.userTexts(in.Interaction)
	st, err := b.standingOf(ctx, user, in.GuildID)
	if err != nil {
		log.Error("cannot read the user's songs (is the store reachable?)", "err", err)
		b.respondEphemeral(ctx, log, in.Interaction, tr.Text(i18n.Internal))
		return
	}
	text := songsText(tr, st.songs, b.opts.HistoryTTL)
	if head := standingText(tr, st, b.now()); head != "" {
		text = head + "\n\n" + text
	}
	b.respondEphemeral(ctx, log, in.Interaction, wholeLines(strings.Split(text, "\n")))
}

// songsText lists a user's songs, newest first: title (linking to the
// audio), length and when.
func songsText(tr *i18n.Printer, songs []storage.Song, ttl time.Duration) string {
	if len(songs) == 0 {
		return keptText(tr, i18n.SongsNone, i18n.SongsNoneKept, ttl)
	}
	var b strings.Builder
	b.WriteString(tr.Text(i18n.SongsTitle) + "\n")
	for i, s := range songs {
		line := fmt.Sprintf("%d. [%s](<%s>)", i+1, escape(truncate(orDefault(s.Title, tr.Text(i18n.Untitled)), 80)), s.SongURL)
		if s.Duration != "" {
			line += " · " + escape(s.Duration)
		}
		line += fmt.Sprintf(" · <t:%d:R>\n", s.CreatedAt.Unix())
		// Whole lines only: a cut would break a link.
		if utf8.RuneCountInString(b.String())+utf8.RuneCountInString(line) > maxContent {
			break
		}
		b.WriteString(line)
	}
	return b.String()
}
