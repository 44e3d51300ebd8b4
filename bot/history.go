package bot

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
)

// songsListed is how many songs /songs shows.
const songsListed = 10

// songsText lists a user's songs, newest first: title (linking to the
// audio), length and when.
func songsText(songs []storage.Song, ttl time.Duration) string {
	if len(songs) == 0 {
		return "🎵 You have no songs to list yet" + keptFor(ttl) + ". Make one with `/song`!"
	}
	var b strings.Builder
	b.WriteString("🎵 **Your latest songs**\n")
	for i, s := range songs {
		line := fmt.Sprintf("%d. [%s](<%s>)", i+1, escape(truncate(orDefault(s.Title, "Untitled song"), 80)), s.SongURL)
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

// expiredButtonText answers a Regenerate press whose song is forgotten.
func expiredButtonText(ttl time.Duration) string {
	return "🕰️ Sorry, I no longer remember that song" + keptFor(ttl) + ", so I can't make it again. Try `/song` with a new description!"
}

// keptFor says how long songs are remembered, e.g. " (songs are kept for
// 30 days)"; empty when they are kept for ever.
func keptFor(ttl time.Duration) string {
	if ttl <= 0 {
		return ""
	}
	if days := int(ttl.Hours() / 24); days >= 1 {
		return fmt.Sprintf(" (songs are kept for %s)", plural(days, "day"))
	}
	return fmt.Sprintf(" (songs are kept for %v)", ttl)
}

// songButtons are the finished song's buttons: a link to the audio and
// Regenerate, which carries the song's reference.
func songButtons(songURL, ref string) []discordgo.MessageComponent {
	row := discordgo.ActionsRow{}
	if songURL != "" && len(songURL) <= maxButtonURL {
		row.Components = append(row.Components, discordgo.Button{
			Label: "Listen", Style: discordgo.LinkButton, URL: songURL, Emoji: &discordgo.ComponentEmoji{Name: "🎧"},
		})
	}
	row.Components = append(row.Components, discordgo.Button{
		Label: "Regenerate", Style: discordgo.SecondaryButton, CustomID: regenPrefix + ref, Emoji: &discordgo.ComponentEmoji{Name: "🔁"},
	})
	return []discordgo.MessageComponent{row}
}
