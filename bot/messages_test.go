package bot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/whisul"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"this is too long", 8, "this is…"},
		{"ééééé", 3, "éé…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q; want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestEscapeDisarmsMarkdownAndMentions(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"lo-fi *beat*", `lo\-fi \*beat\*`},
		{"@everyone sing", "@\u200beveryone sing"},
		{"<@&123> and <@456>", `\<@` + "\u200b" + `&123\> and \<@` + "\u200b" + `456\>`},
		{"[link](https://x.y)", `\[link\]\(https://x.y\)`},
		{"line\nbreak\t tab", "line break tab"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestSongEmbedFitsDiscordLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 5000)
	r := &whisul.Result{
		Title: long, BPM: 140, DurationText: "2:47", SongURL: "https://cdn.example/a.mp3",
		ImageURL: "https://cdn.example/c.jpg", Tags: []string{long, "dark"},
	}
	e := songEmbed(english(t), r, long)
	if n := utf8.RuneCountInString(e.Title); n > maxEmbedTitle {
		t.Errorf("title has %d characters; want at most %d", n, maxEmbedTitle)
	}
	total := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Footer.Text)
	for _, f := range e.Fields {
		if n := utf8.RuneCountInString(f.Value); n > maxFieldValue {
			t.Errorf("field %q has %d characters; want at most %d", f.Name, n, maxFieldValue)
		}
		total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	if total > 6000 {
		t.Errorf("embed has %d characters in all; Discord allows 6000", total)
	}
	if e.Image == nil || e.Image.URL != r.ImageURL {
		t.Errorf("embed image = %+v; want %q", e.Image, r.ImageURL)
	}
}

func TestSongButtons(t *testing.T) {
	t.Parallel()
	row := songButtons(english(t), "https://cdn.example/a.mp3", "123")[0].(discordgo.ActionsRow)
	if len(row.Components) != 2 {
		t.Fatalf("songButtons(short URL) = %d buttons; want Listen and Regenerate", len(row.Components))
	}
	if b := row.Components[1].(discordgo.Button); b.CustomID != "song:v1:regen:123" {
		t.Errorf("Regenerate custom_id = %q; want song:v1:regen:123", b.CustomID)
	}
	row = songButtons(english(t), "https://cdn.example/"+strings.Repeat("a", 600), "123")[0].(discordgo.ActionsRow)
	if len(row.Components) != 1 {
		t.Errorf("songButtons(600-char URL) = %d buttons; want Regenerate alone (Discord refuses longer link URLs)", len(row.Components))
	}
}

func TestUserMessageNeverShowsDetails(t *testing.T) {
	t.Parallel()
	errs := []error{
		&whisul.APIError{Op: "generate", StatusCode: 401, Message: "key sk-secret is revoked"},
		&whisul.APIError{Op: "generate", StatusCode: 400, Message: "bad"},
		&whisul.APIError{Op: "generate", StatusCode: 429},
		&whisul.APIError{Op: "generate", StatusCode: 503},
		whisul.ErrMalformed,
	}
	for _, err := range errs {
		msg := userMessage(english(t), err)
		if msg == "" || strings.Contains(msg, "sk-secret") || strings.Contains(msg, "whisul:") {
			t.Errorf("userMessage(%v) = %q; want plain words without details", err, msg)
		}
	}
	if got := userMessage(english(t), &whisul.APIError{Op: "generate", StatusCode: 401}); !strings.Contains(got, "misconfigured") {
		t.Errorf("userMessage(401) = %q; want it to say the bot is misconfigured", got)
	}
}
