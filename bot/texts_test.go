package bot

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// english is the printer of the source language, what users get when
// Discord sends no locale or one the catalogue lacks.
func english(tb testing.TB) *i18n.Printer {
	tb.Helper()
	c, err := i18n.Load()
	if err != nil {
		tb.Fatalf("i18n.Load() = %v", err)
	}
	return c.For(i18n.Source)
}

// Discord's limits on what the bot writes, in characters.
const (
	maxDescription  = 100 // command and option descriptions
	maxButtonLabel  = 80
	maxFieldName    = 256
	maxEmbedFooter  = 2048
	maxEmbedsLength = 6000 // all text of a message's embeds
)

func runes(s string) int { return utf8.RuneCountInString(s) }

// TestTextsFitDiscordsLimitsInEveryLocale renders every text in every
// locale with the longest plausible arguments and checks it against
// Discord's limits before any truncation.
func TestTextsFitDiscordsLimitsInEveryLocale(t *testing.T) {
	t.Parallel()
	c := i18n.MustLoad()
	b := newTestBot(t, Options{PromptMaxLength: discordMaxOptionLength - 1}, &fakeDiscord{}, fakeStore{}, fakeWhisul{})
	prompt := strings.Repeat("é", discordMaxOptionLength) // shown back as promptPreview characters
	huge := storage.Limits{UserMaxActive: 1_000_000, UserDailyLimit: 1_000_000, GuildMaxActive: 1_000_000, GuildDailyLimit: 1_000_000, MaxQueued: 1_000_000}
	at := time.Unix(4_102_444_800, 0) // 2100: a long <t:…:R>
	result := &whisul.Result{
		Title: strings.Repeat("t", 300), BPM: 999, DurationText: strings.Repeat("9", 2000),
		Tags: []string{strings.Repeat("x", 2000)}, SongURL: "https://cdn.example/" + strings.Repeat("a", 400), ImageURL: "https://cdn.example/c.jpg",
	}
	big, longest := 1_000_000, seconds(maxCooldownSeconds)
	longJob := storage.Job{Request: storage.Request{Prompt: prompt}}
	for _, locale := range c.Locales() {
		tr := c.For(locale)
		contents := map[string]string{
			"composing":       composingText(tr, prompt, at),
			"queued":          queuedText(tr, prompt, 1_000_000),
			"failed":          failedText(tr, ""),
			"failed reason":   failedText(tr, strings.Repeat("r", 5000)),
			"prompt empty":    b.checkPrompt(tr, " "),
			"prompt too long": b.checkPrompt(tr, prompt),
			"busy":            tr.Text(i18n.BusyWaiting),
			"timed out":       tr.Text(i18n.TimedOut),
			"not found":       tr.Text(i18n.NotFound),
			"store failed":    tr.Text(i18n.StoreFailed),
			"songs none":      songsText(tr, nil, 100_000*24*time.Hour),
			"expired button":  keptText(tr, i18n.ExpiredButton, i18n.ExpiredButtonKept, 100_000*24*time.Hour),
			"limits":          b.limitsText(tr, i18n.AdminLimitsReset, storage.Overrides{UserMaxActive: &big, UserCooldown: &longest, UserDailyLimit: &big, GuildMaxActive: &big, GuildDailyLimit: &big}),
			"standing":        standingText(tr, standing{active: []storage.ActiveJob{{Job: longJob}, {Job: longJob, Queued: true, Position: 1_000_000}}, usage: storage.Usage{CooldownUntil: at}, limits: huge}, time.Unix(0, 0)),
			"paused reason":   tr.Format(i18n.AdminPausedReason, i18n.Args{"Reason": quotePrompt(strings.Repeat("p", pauseReasonMax))}),
			"cancelled by":    tr.Format(i18n.CancelledBy, i18n.Args{"User": "<@123456789012345678901>", "Prompt": quotePrompt(prompt)}),
			"showcase on":     tr.Format(i18n.AdminShowcaseOn, i18n.Args{"Channel": "<#123456789012345678901>"}),
		}
		for _, err := range []error{whisul.ErrInvalidPrompt, whisul.ErrUnauthorized, whisul.ErrRateLimited, whisul.ErrServer, errors.New("other")} {
			contents["user message "+err.Error()] = userMessage(tr, err)
		}
		for _, r := range RefusalReasons() {
			contents["refusal "+string(r)] = refusalText(tr, r, storage.Admission{Limits: huge, RetryAt: at, PauseReason: strings.Repeat("p", pauseReasonMax)})
		}
		for _, d := range []delivery{failedDelivery(strings.Repeat("r", 5000)), timedOutDelivery(), songDelivery(storage.Job{ID: "1"}, result)} {
			contents["fallback "+string(d.outcome)] = fallbackMessage(tr, "123456789012345678901", d, nil).Content
		}
		for what, s := range contents {
			if n := runes(s); n > maxContent || n == 0 || strings.Contains(s, "<no value>") {
				t.Errorf("%s %s has %d characters (Discord allows %d): %q", locale, what, n, maxContent, s)
			}
		}

		e := songEmbed(tr, result, prompt)
		total := runes(e.Title) + runes(e.Footer.Text)
		if runes(e.Footer.Text) > maxEmbedFooter {
			t.Errorf("%s embed footer %q is too long", locale, e.Footer.Text)
		}
		for _, f := range e.Fields {
			if runes(f.Name) > maxFieldName || runes(f.Value) > maxFieldValue || f.Name == "" {
				t.Errorf("%s embed field %q has %d/%d characters; Discord allows %d/%d", locale, f.Name, runes(f.Name), runes(f.Value), maxFieldName, maxFieldValue)
			}
			total += runes(f.Name) + runes(f.Value)
		}
		if runes(e.Title) > maxEmbedTitle || total > maxEmbedsLength {
			t.Errorf("%s embed has a %d-character title and %d in all; Discord allows %d and %d", locale, runes(e.Title), total, maxEmbedTitle, maxEmbedsLength)
		}
		for _, row := range songButtons(tr, "https://cdn.example/a.mp3", "1") {
			for _, btn := range row.(discordgo.ActionsRow).Components {
				if l := btn.(discordgo.Button).Label; runes(l) > maxButtonLabel || l == "" {
					t.Errorf("%s button label %q has %d characters; Discord allows %d", locale, l, runes(l), maxButtonLabel)
				}
			}
		}
	}

	for _, cmd := range b.handlers.definitions() {
		check := func(what, desc string, locs map[discordgo.Locale]string) {
			for _, locale := range c.Locales() {
				d, ok := locs[discordgo.Locale(locale)]
				if !ok {
					t.Errorf("/%s %s has no description for %s", cmd.Name, what, locale)
				}
				if n := runes(d); n < 1 || n > maxDescription {
					t.Errorf("/%s %s description in %s has %d characters; Discord allows 1 to %d: %q", cmd.Name, what, locale, n, maxDescription, d)
				}
			}
			if desc != locs[discordgo.Locale(i18n.Source)] {
				t.Errorf("/%s %s description %q differs from its en-US localization", cmd.Name, what, desc)
			}
		}
		check("command", cmd.Description, *cmd.DescriptionLocalizations)
		for _, o := range cmd.Options {
			check("option "+o.Name, o.Description, o.DescriptionLocalizations)
		}
	}
}
