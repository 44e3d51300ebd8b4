package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/whisul"
)

// Discord's limits on message parts, in characters.
const (
	maxContent    = 2000
	maxEmbedTitle = 256
	maxEmbedDesc  = 4096
	maxFieldValue = 1024
	maxButtonURL  = 512
	embedColor    = 0x8E5CF7
	promptPreview = 900 // prompt shown back, leaving room for the rest
)

// noMentions lets nothing in a prompt or a title ping anyone.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// onlyUser lets a message ping the one user it is meant for.
func onlyUser(userID string) *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, Users: []string{userID}}
}

// truncate shortens s to at most n characters, ending with an ellipsis when
// it had to cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

var markdown = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, `~`, `\~`, "`", "\\`", `|`, `\|`,
	`>`, `\>`, `#`, `\#`, `-`, `\-`, `[`, `\[`, `]`, `\]`, `(`, `\(`, `)`, `\)`,
	`<`, `\<`, `@`, "@\u200b",
)

// escape shows user text literally: no formatting, links or mention syntax.
func escape(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return markdown.Replace(s)
}

// quotePrompt is the prompt as shown back to people, escaped and shortened.
func quotePrompt(prompt string) string {
	return escape(truncate(strings.TrimSpace(prompt), promptPreview))
}

func composingText(prompt string, since time.Time) string {
	return fmt.Sprintf("🎶 Composing your song… (started <t:%d:R>)\n> %s\nThis usually takes a few minutes. This message will turn into your song when it's ready.",
		since.Unix(), quotePrompt(prompt))
}

// songEmbed is the finished song: title linking to the audio, the cover
// art, BPM, duration, tags and the prompt.
func songEmbed(r *whisul.Result, prompt string) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{
		Title:  truncate(orDefault(r.Title, "Untitled song"), maxEmbedTitle),
		URL:    r.SongURL,
		Color:  embedColor,
		Footer: &discordgo.MessageEmbedFooter{Text: "Made with Whisul"},
	}
	if r.ImageURL != "" {
		e.Image = &discordgo.MessageEmbedImage{URL: r.ImageURL}
	}
	if r.BPM > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "BPM", Value: fmt.Sprintf("%.0f", r.BPM), Inline: true})
	}
	if r.DurationText != "" {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Length", Value: truncate(escape(r.DurationText), maxFieldValue), Inline: true})
	}
	if len(r.Tags) > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Tags", Value: truncate(escape(strings.Join(r.Tags, ", ")), maxFieldValue)})
	}
	e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Prompt", Value: truncate(quotePrompt(prompt), maxFieldValue)})
	return e
}

// Why a song did not arrive, as the user reads it.
const (
	msgTimedOut    = "⌛ Sorry, your song took too long to make, so I stopped waiting for it. Please try `/song` again."
	msgNotFound    = "😕 Sorry, the music service lost track of your song. Please try `/song` again."
	msgStoreFailed = "😕 Sorry, I couldn't keep track of your song because of a problem on my side. Please try again in a minute."
	msgStoreDown   = "🙏 I can't take new songs right now — please try again in a minute."
	msgInternal    = "😕 Sorry, something went wrong on my side. Please try again in a minute."
	msgBusyWaiting = "🚦 The music service is busy right now; your song will start in a moment. This message will update."
)

func failedText(whisulError string) string {
	if strings.TrimSpace(whisulError) == "" {
		return "😕 Sorry, the music service couldn't make this song. Please try `/song` again, maybe with a different description."
	}
	return "😕 Sorry, the music service couldn't make this song. It said: " + truncate(escape(whisulError), 500)
}

// userMessage is the one place that turns an error into words for users;
// details belong in the log.
func userMessage(err error) string {
	switch {
	case errors.Is(err, whisul.ErrInvalidPrompt):
		return "🤔 The music service didn't accept that description. Please describe the song differently and try again."
	case errors.Is(err, whisul.ErrUnauthorized):
		return "🔧 Sorry, the bot is misconfigured and can't make songs right now. Please let the server admins know."
	case errors.Is(err, whisul.ErrRateLimited):
		return "🚦 The music service is busy right now. Please try again in a minute."
	case errors.Is(err, whisul.ErrServer), errors.Is(err, whisul.ErrNetwork):
		return "📡 I couldn't reach the music service. Please try again in a minute."
	default:
		return msgInternal
	}
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
