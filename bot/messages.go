package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
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

func composingText(tr *i18n.Printer, prompt string, since time.Time) string {
	return tr.Format(i18n.Composing, i18n.Args{"Started": fmt.Sprintf("<t:%d:R>", since.Unix()), "Prompt": quotePrompt(prompt)})
}

// songEmbed is the finished song: title linking to the audio, the cover
// art, BPM, duration, tags and the prompt.
func songEmbed(tr *i18n.Printer, r *whisul.Result, prompt string) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{
		Title:  truncate(orDefault(r.Title, tr.Text(i18n.Untitled)), maxEmbedTitle),
		URL:    r.SongURL,
		Color:  embedColor,
		Footer: &discordgo.MessageEmbedFooter{Text: tr.Text(i18n.Footer)},
	}
	if r.ImageURL != "" {
		e.Image = &discordgo.MessageEmbedImage{URL: r.ImageURL}
	}
	if r.BPM > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: tr.Text(i18n.FieldBPM), Value: fmt.Sprintf("%.0f", r.BPM), Inline: true})
	}
	if r.DurationText != "" {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: tr.Text(i18n.FieldLength), Value: truncate(escape(r.DurationText), maxFieldValue), Inline: true})
	}
	if len(r.Tags) > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: tr.Text(i18n.FieldTags), Value: truncate(escape(strings.Join(r.Tags, ", ")), maxFieldValue)})
	}
	e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: tr.Text(i18n.FieldPrompt), Value: truncate(quotePrompt(prompt), maxFieldValue)})
	return e
}

// failedText is why Whisul did not make the song, with its own words
// (English, from Whisul) when it gave any.
func failedText(tr *i18n.Printer, whisulError string) string {
	if strings.TrimSpace(whisulError) == "" {
		return tr.Text(i18n.Failed)
	}
	return tr.Format(i18n.FailedReason, i18n.Args{"Reason": truncate(escape(whisulError), 500)})
}

// userMessage is the one place that turns an error into words for users;
// details belong in the log.
func userMessage(tr *i18n.Printer, err error) string {
	switch {
	case errors.Is(err, whisul.ErrInvalidPrompt):
		return tr.Text(i18n.InvalidPrompt)
	case errors.Is(err, whisul.ErrUnauthorized):
		return tr.Text(i18n.Misconfigured)
	case errors.Is(err, whisul.ErrRateLimited):
		return tr.Text(i18n.RateLimited)
	case errors.Is(err, whisul.ErrServer), errors.Is(err, whisul.ErrNetwork):
		return tr.Text(i18n.Unreachable)
	default:
		return tr.Text(i18n.Internal)
	}
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
