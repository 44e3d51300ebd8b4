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

// Long values the texts are rendered with: the longest a user, Whisul or
// Discord can send, so that a translation too long for Discord fails here
// rather than being cut in front of a user.
var (
	longPrompt  = strings.Repeat("*", discordMaxOptionLength) // shown back as promptPreview characters, each escaped to two
	longUserID  = "123456789012345678901"                     // a snowflake of 21 digits
	longAt      = time.Unix(4_102_444_800, 0)                 // 2100: a long <t:…:R>
	hugeLimits  = storage.Limits{UserMaxActive: 1_000_000, UserDailyLimit: 1_000_000, GuildMaxActive: 1_000_000, GuildDailyLimit: 1_000_000, MaxQueued: 1_000_000, MaxRunning: 1_000_000, DailyLimit: 1_000_000}
	longReason  = strings.Repeat("p", pauseReasonMax)
	longResults = []*whisul.Result{
		{Title: strings.Repeat("t", 300), BPM: 999, DurationText: strings.Repeat("9", 2000), Tags: []string{strings.Repeat("x", 2000)},
			SongURL: "https://cdn.example/" + strings.Repeat("a", 400), ImageURL: "https://cdn.example/c.jpg"},
		{SongURL: "https://cdn.example/a.mp3"}, // untitled
	}
)

// longJob is a job of the longest prompt, ids and place in line.
func longJob() storage.Job {
	return storage.Job{ID: longUserID, Request: storage.Request{Prompt: longPrompt, UserID: longUserID, GuildID: longUserID, InteractionAt: longAt}}
}

// TestTextsFitDiscordsLimitsInEveryLocale renders every text in every
// locale with the longest plausible arguments and checks it against
// Discord's limits before any truncation: message contents, embeds,
// button labels and the commands' descriptions at every level. A text the
// bot shows is added here when it is added to the bot; i18n's
// TestEveryMessageFitsDiscordsLimits checks every message of the files on
// its own too.
func TestTextsFitDiscordsLimitsInEveryLocale(t *testing.T) {
	t.Parallel()
	c := i18n.MustLoad()
	for _, locale := range c.Locales() {
		t.Run(locale, func(t *testing.T) {
			t.Parallel()
			tr := c.For(locale)
			for what, s := range contents(t, tr) {
				if n := runes(s); n > maxContent || n == 0 || strings.Contains(s, "<no value>") {
					t.Errorf("%s has %d characters (Discord allows 1 to %d): %q", what, n, maxContent, s)
				}
			}
			for what, lines := range lists(t, tr) {
				checkList(t, what, lines)
			}
			for _, r := range longResults {
				checkEmbed(t, "song embed", songEmbed(tr, r, longPrompt))
				checkButtons(t, "song buttons", songButtons(tr, r.SongURL, longUserID))
				show := showcaseMessage(tr, longJob(), r)
				checkEmbed(t, "showcase embed", show.Embeds[0])
				checkButtons(t, "showcase buttons", show.Components)
			}
			checkButtons(t, "cancel button", cancelComponents(tr, longJob()))
			for _, d := range deliveries() {
				m := fallbackMessage(tr, longUserID, d, nil)
				for _, e := range m.Embeds {
					checkEmbed(t, "fallback "+string(d.outcome)+" embed", e)
				}
				if d.outcome == JobCompleted {
					checkButtons(t, "fallback "+string(d.outcome)+" buttons", m.Components)
				}
			}
			if n := runes(tr.Text(i18n.Untitled)); n > maxEmbedTitle {
				t.Errorf("the untitled song's title has %d characters; Discord allows %d", n, maxEmbedTitle)
			}
		})
	}

	b := newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{}, fakeWhisul{})
	for _, cmd := range b.handlers.definitions() {
		checkDescription(t, c, "/"+cmd.Name, cmd.Description, *cmd.DescriptionLocalizations)
		checkOptions(t, c, "/"+cmd.Name, cmd.Options)
	}
}

// contents are the message contents the bot writes, by what they are.
func contents(t *testing.T, tr *i18n.Printer) map[string]string {
	t.Helper()
	settings := fakeSettings{UpdateGuildSettingsFn: func(_ string, change func(*storage.GuildSettings)) (storage.GuildSettings, error) {
		s := storage.GuildSettings{Paused: true}
		change(&s)
		return s, nil
	}}
	b := newTestBot(t, Options{PromptMaxLength: discordMaxOptionLength - 1}, &fakeDiscord{}, fakeStore{fakeSettings: settings}, fakeWhisul{})
	ctx := t.Context()
	big, longest := 1_000_000, seconds(maxCooldownSeconds)
	all := storage.Overrides{UserMaxActive: &big, UserCooldown: &longest, UserDailyLimit: &big, GuildMaxActive: &big, GuildDailyLimit: &big}
	prompt, mention := quotePrompt(longPrompt), "<@"+longUserID+">"
	out := map[string]string{
		"composing":           composingText(tr, longPrompt, longAt),
		"queued":              queuedText(tr, longPrompt, 1_000_000),
		"failed":              failedText(tr, ""),
		"failed reason":       failedText(tr, strings.Repeat("r", 5000)),
		"prompt empty":        b.checkPrompt(tr, " "),
		"prompt too long":     b.checkPrompt(tr, longPrompt),
		"busy":                tr.Text(i18n.BusyWaiting),
		"timed out":           tr.Text(i18n.TimedOut),
		"not found":           tr.Text(i18n.NotFound),
		"store failed":        tr.Text(i18n.StoreFailed),
		"store down":          tr.Text(i18n.StoreDown),
		"unknown interaction": tr.Text(i18n.UnknownInteraction),
		"soon":                tr.Text(i18n.Soon),
		"songs none":          songsText(tr, nil, 0),
		"songs none kept":     songsText(tr, nil, 100_000*24*time.Hour),
		"expired button":      keptText(tr, i18n.ExpiredButton, i18n.ExpiredButtonKept, 0),
		"expired button kept": keptText(tr, i18n.ExpiredButton, i18n.ExpiredButtonKept, 100_000*24*time.Hour),
		"cancelled":           tr.Format(i18n.Cancelled, i18n.Args{"Prompt": prompt}),
		"cancelled by":        tr.Format(i18n.CancelledBy, i18n.Args{"User": mention, "Prompt": prompt}),
		"cancel not yours":    tr.Text(i18n.CancelNotYours),
		"cancel started":      tr.Text(i18n.CancelStarted),
		"cancel gone":         tr.Text(i18n.CancelGone),
		"admin guild only":    tr.Text(i18n.AdminGuildOnly),
		"admin failed":        tr.Text(i18n.AdminFailed),
	}
	for _, h := range []i18n.ID{i18n.AdminLimitsShown, i18n.AdminLimitsChanged, i18n.AdminLimitsReset} {
		out["limits "+string(h)] = b.limitsText(tr, h, all)
		out["limits "+string(h)+" none set"] = b.limitsText(tr, h, storage.Overrides{})
	}
	admin := map[string]func() (string, error){
		"admin paused":        func() (string, error) { return b.adminPause(ctx, b.log, tr, longUserID, "") },
		"admin paused reason": func() (string, error) { return b.adminPause(ctx, b.log, tr, longUserID, longReason+"more") },
		"admin resumed":       func() (string, error) { return b.adminResume(ctx, b.log, tr, longUserID) },
		"admin showcase on":   func() (string, error) { return b.adminShowcase(ctx, b.log, tr, longUserID, longUserID) },
		"admin showcase off":  func() (string, error) { return b.adminShowcase(ctx, b.log, tr, longUserID, "") },
	}
	for what, f := range admin {
		s, err := f()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out[what] = s
	}
	notPaused := newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{fakeSettings: fakeSettings{UpdateGuildSettingsFn: func(_ string, change func(*storage.GuildSettings)) (storage.GuildSettings, error) {
		var s storage.GuildSettings
		change(&s)
		return s, nil
	}}}, fakeWhisul{})
	out["admin not paused"], _ = notPaused.adminResume(ctx, notPaused.log, tr, longUserID)
	empty := newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{fakeRoster: fakeRoster{GuildJobsFn: func(string) ([]storage.ActiveJob, error) { return nil, nil }}}, fakeWhisul{})
	out["admin queue empty"], _ = empty.adminQueue(ctx, tr, longUserID)

	for _, err := range []error{whisul.ErrInvalidPrompt, whisul.ErrUnauthorized, whisul.ErrRateLimited, whisul.ErrServer, errors.New("other")} {
		out["user message "+err.Error()] = userMessage(tr, err)
	}
	for _, r := range RefusalReasons() {
		out["refusal "+string(r)] = refusalText(tr, r, storage.Admission{Limits: hugeLimits, RetryAt: longAt, PauseReason: longReason})
		out["refusal "+string(r)+" soon"] = refusalText(tr, r, storage.Admission{Limits: hugeLimits})
	}
	for _, d := range deliveries() {
		out["fallback "+string(d.outcome)] = fallbackMessage(tr, longUserID, d, nil).Content
	}
	return out
}

// lists are the texts the bot cuts between lines to fit a message (/songs,
// /songadmin queue), as their lines before the cut.
func lists(t *testing.T, tr *i18n.Printer) map[string][]string {
	t.Helper()
	var songs []storage.Song
	for range songsListed {
		songs = append(songs, storage.Song{Title: strings.Repeat("*", 300), Duration: strings.Repeat("9", 40), SongURL: longResults[0].SongURL, CreatedAt: longAt})
	}
	songs = append(songs, storage.Song{SongURL: longResults[0].SongURL, CreatedAt: longAt}) // untitled
	var jobs []storage.ActiveJob
	for i := range 200 {
		jobs = append(jobs, storage.ActiveJob{Job: longJob(), Queued: i > 0, Position: 1_000_000 - i})
	}
	b := newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{fakeRoster: fakeRoster{GuildJobsFn: func(string) ([]storage.ActiveJob, error) { return jobs, nil }}}, fakeWhisul{})
	queue, err := b.adminQueue(t.Context(), tr, longUserID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	onTheWay := []storage.ActiveJob{{Job: longJob()}, {Job: longJob(), Queued: true, Position: 1_000_000}}
	return map[string][]string{
		"songs":         strings.Split(strings.TrimSuffix(songsText(tr, songs, 100_000*24*time.Hour), "\n"), "\n"),
		"songs one":     strings.Split(strings.TrimSuffix(songsText(tr, songs[len(songs)-1:], 0), "\n"), "\n"),
		"admin queue":   strings.Split(queue, "\n"),
		"standing left": strings.Split(standingText(tr, standing{active: onTheWay, usage: storage.Usage{CooldownUntil: longAt}, limits: hugeLimits}, now), "\n"),
		"standing none left": strings.Split(standingText(tr, standing{active: onTheWay, usage: storage.Usage{UserToday: 5, CooldownUntil: longAt},
			limits: storage.Limits{UserDailyLimit: 5}}, now), "\n"),
	}
}

// checkList checks a list cut to fit a message: within Discord's limit,
// and with its heading and at least one entry, so no line of a locale is
// so long that the list shows nothing.
func checkList(t *testing.T, what string, lines []string) {
	t.Helper()
	all := strings.Join(lines, "\n")
	if n := runes(all); n > maxContent || len(lines) < 2 || strings.Contains(all, "<no value>") {
		t.Errorf("%s has %d lines and %d characters; want 2 or more lines within %d: %q", what, len(lines), n, maxContent, all)
	}
	for i, l := range lines {
		if strings.TrimSpace(l) == "" && i < len(lines)-1 {
			t.Errorf("%s line %d is empty: %q", what, i, all)
		}
	}
}

func deliveries() []delivery {
	return []delivery{failedDelivery(strings.Repeat("r", 5000)), failedDelivery(""), timedOutDelivery(), songDelivery(longJob(), longResults[0]), songDelivery(longJob(), longResults[1])}
}

// checkEmbed checks an embed's parts and its whole against Discord's
// limits, before the bot's own truncation where it has any.
func checkEmbed(t *testing.T, what string, e *discordgo.MessageEmbed) {
	t.Helper()
	total := runes(e.Title) + runes(e.Description)
	if e.Footer != nil {
		total += runes(e.Footer.Text)
		if runes(e.Footer.Text) > maxEmbedFooter {
			t.Errorf("%s footer %q has %d characters; Discord allows %d", what, e.Footer.Text, runes(e.Footer.Text), maxEmbedFooter)
		}
	}
	if runes(e.Description) > maxEmbedDesc || strings.Contains(e.Description, "<no value>") {
		t.Errorf("%s description has %d characters; Discord allows %d: %q", what, runes(e.Description), maxEmbedDesc, e.Description)
	}
	for _, f := range e.Fields {
		if runes(f.Name) > maxFieldName || runes(f.Value) > maxFieldValue || f.Name == "" {
			t.Errorf("%s field %q has %d/%d characters; Discord allows %d/%d", what, f.Name, runes(f.Name), runes(f.Value), maxFieldName, maxFieldValue)
		}
		total += runes(f.Name) + runes(f.Value)
	}
	if n := runes(e.Title); n == 0 || n > maxEmbedTitle || total > maxEmbedsLength {
		t.Errorf("%s has a %d-character title and %d in all; Discord allows 1 to %d and %d", what, runes(e.Title), total, maxEmbedTitle, maxEmbedsLength)
	}
}

// checkButtons checks every button label of a message's rows.
func checkButtons(t *testing.T, what string, rows []discordgo.MessageComponent) {
	t.Helper()
	n := 0
	for _, row := range rows {
		for _, c := range row.(discordgo.ActionsRow).Components {
			n++
			if l := c.(discordgo.Button).Label; runes(l) > maxButtonLabel || l == "" {
				t.Errorf("%s: label %q has %d characters; Discord allows 1 to %d", what, l, runes(l), maxButtonLabel)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s has no buttons", what)
	}
}

// checkOptions checks the descriptions of options at every level:
// subcommands, their groups and their options.
func checkOptions(t *testing.T, c *i18n.Catalogue, path string, opts []*discordgo.ApplicationCommandOption) {
	t.Helper()
	for _, o := range opts {
		checkDescription(t, c, path+" "+o.Name, o.Description, o.DescriptionLocalizations)
		checkOptions(t, c, path+" "+o.Name, o.Options)
	}
}

// checkDescription checks a command's or option's description and its
// localization in every catalogue locale.
func checkDescription(t *testing.T, c *i18n.Catalogue, what, desc string, locs map[discordgo.Locale]string) {
	t.Helper()
	for _, locale := range c.Locales() {
		d, ok := locs[discordgo.Locale(locale)]
		if !ok {
			t.Errorf("%s has no description for %s", what, locale)
		}
		if n := runes(d); n < 1 || n > maxDescription {
			t.Errorf("%s description in %s has %d characters; Discord allows 1 to %d: %q", what, locale, n, maxDescription, d)
		}
	}
	if desc != locs[discordgo.Locale(i18n.Source)] {
		t.Errorf("%s description %q differs from its en-US localization", what, desc)
	}
}
