package bot

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// TestEachReaderGetsTheirLanguage follows one song through its messages:
// the refusal and DM in the requester's language, the public reply and a
// channel fallback in the server's, or the requester's when the catalogue
// lacks the server's, or English when it lacks both.
func TestEachReaderGetsTheirLanguage(t *testing.T) {
	t.Parallel()
	fr, ja := i18n.MustLoad().For("fr"), i18n.MustLoad().For("ja")

	t.Run("refusal", func(t *testing.T) {
		t.Parallel()
		d := &fakeDiscord{}
		b := newTestBot(t, Options{}, d, fakeStore{}, fakeWhisul{})
		ev := songEvent(time.Now(), "u1", " ", false)
		in := ev.Struct.(*discordgo.InteractionCreate).Interaction
		in.Locale, in.GuildLocale = discordgo.Japanese, ptr(discordgo.French)
		b.onEvent(nil, ev)
		if r := d.Responses(); len(r) != 1 || r[0].Data.Content != ja.Text(i18n.PromptEmpty) {
			t.Errorf("responses = %+v; want the Japanese refusal %q", r, ja.Text(i18n.PromptEmpty))
		}
	})

	t.Run("admitted job keeps both locales", func(t *testing.T) {
		t.Parallel()
		var admitted []storage.Job
		store := fakeStore{fakeGate: fakeGate{AdmitFn: func(_ time.Time, job storage.Job, _ storage.Limits) (storage.Admission, error) {
			admitted = append(admitted, job)
			return storage.Admission{Queued: true, Position: 2}, nil
		}}}
		d := &fakeDiscord{}
		b := newTestBot(t, Options{}, d, store, fakeWhisul{})
		ev := songEvent(time.Now(), "u1", "lo-fi", false)
		in := ev.Struct.(*discordgo.InteractionCreate).Interaction
		in.Locale, in.GuildLocale = discordgo.Japanese, ptr(discordgo.French)
		b.onEvent(nil, ev)
		if len(admitted) != 1 || admitted[0].Locale != "ja" || admitted[0].GuildLocale != "fr" {
			t.Fatalf("admitted %+v; want Locale ja, GuildLocale fr", admitted)
		}
		if e := d.Edits(); len(e) != 1 || !strings.Contains(e[0].content, "2e dans la file") {
			t.Errorf("edits = %+v; want the public reply in French (2e dans la file)", e)
		}
	})

	en, de := i18n.MustLoad().For(i18n.Source), i18n.MustLoad().For("de")
	tests := []struct {
		name                    string
		private                 bool
		locale, guild           string // the requester's and the server's
		sendErr                 map[string]error
		wantTo                  string
		wantReply, wantFallback *i18n.Printer
	}{
		{"public reply and channel fallback in the server's language", false, "ja", "fr", nil, "chan1", fr, fr},
		{"DM fallback in the requester's", false, "ja", "fr", map[string]error{"chan1": restError(403, 50001)}, "dm-u1", fr, ja},
		{"private song in the requester's", true, "ja", "fr", nil, "dm-u1", ja, ja},
		// A server language the catalogue lacks: the requester's, which at
		// least they read, then English.
		{"server's language unsupported: the requester's", false, "de", "hr", nil, "chan1", de, de},
		{"neither supported: English", false, "hr", "hr", nil, "chan1", en, en},
		{"server in British English: English, not the requester's", false, "de", "en-GB", nil, "chan1", en, en},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var edited []string
			d := &fakeDiscord{
				EditReplyFn: func(_, _ string, e *discordgo.WebhookEdit) error {
					for _, f := range (*e.Embeds)[0].Fields {
						edited = append(edited, f.Name)
					}
					return restError(401, 50027)
				},
				SendFn: func(channelID string, _ *discordgo.MessageSend) error { return tt.sendErr[channelID] },
			}
			q := &queueFor{removed: true}
			b := newTestBot(t, Options{}, d, fakeStore{fakeQueue: q.fake(), fakeHistory: keepsSongs()}, fakeWhisul{})
			job := pendingJob(time.Now(), "u1", tt.private)
			job.Locale, job.GuildLocale = tt.locale, tt.guild
			b.deliver(t.Context(), job, songDelivery(job, &whisul.Result{Title: "T", DurationText: "2:47", SongURL: "https://cdn.example/a.mp3"}))

			if !slices.Contains(edited, tt.wantReply.Text(i18n.FieldLength)) {
				t.Errorf("edited reply fields = %v; want %q (%s)", edited, tt.wantReply.Text(i18n.FieldLength), tt.wantReply.Locale())
			}
			var got *discordgo.MessageSend
			for _, s := range d.Sent() {
				if s.channelID == tt.wantTo {
					got = s.msg
				}
			}
			if got == nil {
				t.Fatalf("sent %+v; want a message to %s", d.Sent(), tt.wantTo)
			}
			want := tt.wantFallback
			if want := want.Format(i18n.NoticeReady, i18n.Args{"User": "<@u1>"}); got.Content != want {
				t.Errorf("fallback to %s = %q; want %q", tt.wantTo, got.Content, want)
			}
			if f := got.Embeds[0].Fields[0].Name; f != want.Text(i18n.FieldLength) {
				t.Errorf("fallback embed field %q; want %q", f, want.Text(i18n.FieldLength))
			}
			if l := got.Components[0].(discordgo.ActionsRow).Components[0].(discordgo.Button).Label; l != want.Text(i18n.ButtonListen) {
				t.Errorf("fallback button %q; want %q", l, want.Text(i18n.ButtonListen))
			}
		})
	}
}

// TestShowcaseIsInTheServersLanguage checks the showcase post, which the
// whole server reads, against the server's chain: its language, else the
// requester's, else English.
func TestShowcaseIsInTheServersLanguage(t *testing.T) {
	t.Parallel()
	c := i18n.MustLoad()
	result := &whisul.Result{SongURL: "https://cdn.example/s.mp3"} // untitled: the title is a catalogue text too
	for _, tt := range []struct{ locale, guild, want string }{
		{"ja", "fr", "fr"},
		{"de", "hr", "de"},
		{"hr", "hr", i18n.Source},
		{"pt-BR", "", "pt-BR"}, // a record older than guild_locale
	} {
		d := &fakeDiscord{}
		store := fakeStore{fakeSettings: fakeSettings{GuildSettingsFn: func(string) (storage.GuildSettings, error) {
			return storage.GuildSettings{ShowcaseChannelID: "show1"}, nil
		}}}
		b := newTestBot(t, Options{}, d, store, fakeWhisul{})
		job := pendingJob(time.Now(), "u1", false)
		job.Locale, job.GuildLocale = tt.locale, tt.guild
		b.showcase(t.Context(), b.log, job, result)
		sent := d.Sent()
		if len(sent) != 1 {
			t.Fatalf("%s/%s: sent %+v; want one showcase post", tt.guild, tt.locale, sent)
		}
		tr := c.For(tt.want)
		e, btn := sent[0].msg.Embeds[0], sent[0].msg.Components[0].(discordgo.ActionsRow).Components[0].(discordgo.Button)
		if e.Title != tr.Text(i18n.Untitled) || e.Description != tr.Format(i18n.ShowcaseMadeFor, i18n.Args{"User": "<@u1>"}) || btn.Label != tr.Text(i18n.ButtonListen) {
			t.Errorf("server %q, requester %q: showcase %q / %q / %q; want %s's %q / %q / %q", tt.guild, tt.locale, e.Title, e.Description, btn.Label,
				tt.want, tr.Text(i18n.Untitled), tr.Format(i18n.ShowcaseMadeFor, i18n.Args{"User": "<@u1>"}), tr.Text(i18n.ButtonListen))
		}
	}
}

func ptr[T any](v T) *T { return &v }
