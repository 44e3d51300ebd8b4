package e2e_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/bot/discordtest"
	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul/whisultest"
)

func TestRefusalsSpeakTheUsersLanguage(t *testing.T) {
	t.Parallel()
	c := i18n.MustLoad()
	h := newHarness(t, func(o *bot.Options) { o.Limits = storage.Limits{UserCooldown: time.Hour} })
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	h.start()
	for _, locale := range []string{"de", "ja", "pt-BR"} {
		tr := c.For(locale)
		user := "7000" + strings.ReplaceAll(locale, "-", "")
		// In a server whose language is English: a refusal is the user's alone.
		cmd := discordtest.SongCommand{UserID: user, Locale: locale, GuildLocale: "en-US"}

		cmd.Prompt = "   "
		if r := h.reply(h.song(cmd)); !r.refused() || r.Data.Content != tr.Text(i18n.PromptEmpty) {
			t.Errorf("%s: blank prompt answered %+v; want the ephemeral %q", locale, r, tr.Text(i18n.PromptEmpty))
		}
		cmd.Prompt = strings.Repeat("la ", 100)
		if r := h.reply(h.song(cmd)); !r.refused() || r.Data.Content != tr.Plural(i18n.PromptTooLong, 299, i18n.Args{"Max": 200}) {
			t.Errorf("%s: long prompt answered %q; want %q", locale, r.Data.Content, tr.Plural(i18n.PromptTooLong, 299, i18n.Args{"Max": 200}))
		}

		cmd.Prompt = "a first song"
		if r := h.reply(h.song(cmd)); r.Type != 5 {
			t.Fatalf("%s: first song answered %+v; want a deferral", locale, r)
		}
		cmd.Prompt = "a second song, too soon"
		r := h.reply(h.song(cmd))
		before, after, _ := strings.Cut(tr.Format(i18n.RefusedCooldown, i18n.Args{"When": "\x00"}), "\x00")
		if !r.refused() || !strings.HasPrefix(r.Data.Content, before+"<t:") || !strings.HasSuffix(r.Data.Content, ":R>"+after) {
			t.Errorf("%s: cooldown refusal %q; want %q<t:…:R>%q", locale, r.Data.Content, before, after)
		}
	}
}

func TestSongInAFrenchServerIsDeliveredInFrenchAfterARestart(t *testing.T) {
	t.Parallel()
	fr := i18n.MustLoad().For("fr")
	h := newHarness(t, nil)
	h.whisul.SetDefault(whisultest.Script{After: time.Hour})
	first := h.start()
	in := h.song(discordtest.SongCommand{Prompt: "une valse pour la pluie", Locale: "de", GuildLocale: "fr"})
	h.wait("the composing message in French", func() bool {
		m, ok := h.discord.Original(in.Token)
		return ok && strings.HasPrefix(m.Content, strings.SplitN(fr.Text(i18n.Composing), "(", 2)[0])
	})
	if err := first.stop(t); err != nil {
		t.Fatalf("Run() after cancel = %v", err)
	}

	h.whisul.FinishAll()
	h.opts.Store = nil // a new process, which knows the job from the store alone
	h.start()
	m := h.finalReply(in)
	e := embed(t, m)
	var names []string
	for _, f := range e["fields"].([]any) {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	for _, id := range []i18n.ID{i18n.FieldBPM, i18n.FieldLength, i18n.FieldTags, i18n.FieldPrompt} {
		if !slices.Contains(names, fr.Text(id)) {
			t.Errorf("embed fields %v; want %q (French)", names, fr.Text(id))
		}
	}
	if footer, _ := e["footer"].(map[string]any); footer["text"] != fr.Text(i18n.Footer) {
		t.Errorf("embed footer %v; want %q", e["footer"], fr.Text(i18n.Footer))
	}
	for _, label := range []string{fr.Text(i18n.ButtonListen), fr.Text(i18n.ButtonRegenerate)} {
		if !strings.Contains(string(m.Components[0]), `"label":"`+label+`"`) {
			t.Errorf("components %s; want the French button %q", m.Components[0], label)
		}
	}
}

func TestRegisteredCommandsCarryEveryLocale(t *testing.T) {
	t.Parallel()
	c := i18n.MustLoad()
	h := newHarness(t, nil)
	h.start()
	type described struct {
		Name                     string            `json:"name"`
		Description              string            `json:"description"`
		DescriptionLocalizations map[string]string `json:"description_localizations"`
	}
	cmds := h.discord.Commands("")
	if len(cmds) != 3 {
		t.Fatalf("registered %d commands; want song, songs and songadmin", len(cmds))
	}
	type option struct {
		described
		Options []described `json:"options"` // a subcommand's
	}
	for _, raw := range cmds {
		var cmd struct {
			described
			Options []option `json:"options"`
		}
		if err := json.Unmarshal(raw, &cmd); err != nil {
			t.Fatal(err)
		}
		all := []described{cmd.described}
		for _, o := range cmd.Options {
			all = append(append(all, o.described), o.Options...)
		}
		for _, d := range all {
			if got := slices.Sorted(maps.Keys(d.DescriptionLocalizations)); !slices.Equal(got, slices.Sorted(slices.Values(c.Locales()))) {
				t.Errorf("/%s %s description_localizations for %v; want every catalogue locale %v", cmd.Name, d.Name, got, c.Locales())
			}
			if d.DescriptionLocalizations["ko"] == d.Description || d.DescriptionLocalizations["en-US"] != d.Description {
				t.Errorf("/%s %s: description %q, localizations %v; want en-US as the description and each language its own", cmd.Name, d.Name, d.Description, d.DescriptionLocalizations)
			}
		}
	}
}

// TestWhisulsRejectionSpeaksTheUsersLanguage has Whisul answer 400 to a
// Japanese user's prompts: the reply says so in Japanese, privately, in a
// DM and publicly in a server whose language the catalogue lacks.
func TestWhisulsRejectionSpeaksTheUsersLanguage(t *testing.T) {
	t.Parallel()
	ja := i18n.MustLoad().For("ja")
	h := newHarness(t, nil)
	h.start()
	for _, tt := range []struct {
		name string
		cmd  discordtest.SongCommand
	}{
		{"private, in an English server", discordtest.SongCommand{GuildLocale: "en-US", Options: map[string]any{"private": true}}},
		{"in a DM", discordtest.SongCommand{Where: discordtest.InDM}},
		{"public, in a Croatian server", discordtest.SongCommand{GuildLocale: "hr"}},
	} {
		tt.cmd.Prompt, tt.cmd.Locale, tt.cmd.UserID = "a song Whisul refuses", "ja", "8000"
		h.whisul.FailGenerate(1, 400, "")
		in := h.song(tt.cmd)
		m := h.finalReply(in)
		if got := h.outcome(in.ID); got != string(bot.JobRejected) {
			t.Fatalf("%s: outcome %q; want %q (Whisul's 400)", tt.name, got, bot.JobRejected)
		}
		if want := ja.Text(i18n.InvalidPrompt); m.Content != want || len(m.Embeds) != 0 {
			t.Errorf("%s: reply %q (%d embeds); want the Japanese %q", tt.name, m.Content, len(m.Embeds), want)
		}
	}
}
