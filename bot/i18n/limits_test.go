package i18n

import (
	"strings"
	"testing"
	"text/template"
	"unicode/utf8"
)

// Discord's limits on the texts of the catalogue, in characters, by the
// ID's prefix (ids.go names them so) or by ID; every text is also a
// message content, at most 2000.
const maxContent = 2000

var (
	prefixLimits = map[string]int{
		"cmd_":    100, // command and option descriptions
		"button_": 80,  // button labels
		"field_":  256, // embed field names
	}
	idLimits = map[ID]int{
		Untitled:        256,  // an embed title
		Footer:          2048, // an embed footer
		ShowcaseMadeFor: 4096, // an embed description
	}
)

func limitOf(id string) int {
	for prefix, n := range prefixLimits {
		if strings.HasPrefix(id, prefix) {
			return n
		}
	}
	if n, ok := idLimits[ID(id)]; ok {
		return n
	}
	return maxContent
}

// longestArgs are the longest values the bot fills the placeholders with
// in locale: a prompt of markup that escaping doubles, cut to the 900
// characters the bot shows back; a 21-digit mention; a time in 2100 or
// "soon"; counts of seven digits; the locale's longest place in line,
// duration and limit value.
func longestArgs(p *Printer) map[string]any {
	longest := func(texts ...string) string {
		out := ""
		for _, s := range texts {
			if utf8.RuneCountInString(s) > utf8.RuneCountInString(out) {
				out = s
			}
		}
		return out
	}
	var places []string
	for n := 999_990; n <= 1_000_010; n++ {
		places = append(places, p.Ordinal(InLine, n, nil))
	}
	count := "1000000"
	off := p.Text(LimitOff)
	return map[string]any{
		"Prompt":   strings.Repeat(`\*`, 900),
		"Reason":   strings.Repeat(`\*`, 250), // Whisul's words cut to 500, a pause reason of 200 escaped
		"User":     "<@123456789012345678901>",
		"Channel":  "<#123456789012345678901>",
		"Started":  longest("<t:4102444800:R>", p.Text(Soon)),
		"When":     longest("<t:4102444800:R>", p.Text(Soon)),
		"Since":    longest("<t:4102444800:R>", p.Text(Soon)),
		"Count":    count,
		"Max":      count,
		"Position": longest(places...),
		"Kept":     longest(p.Plural(Days, 1_000_000, nil), p.Plural(Hours, 23, nil), p.Plural(Minutes, 59, nil)),
		"Value":    longest(count, off, p.Plural(Seconds, 31_536_000, nil)) + " " + p.Text(LimitSetHere),
		"Running":  longest(count, off),
		"Queued":   longest(count, off),
		"Daily":    longest(count, off),
	}
}

// TestEveryMessageFitsDiscordsLimits renders every form of every message
// of every locale file with its placeholders at their longest and checks
// it against the limit of what it is: a description, a button label, a
// field name or any message's 2000 characters. A placeholder this test
// does not know fails it, so a new one gets its longest value here.
func TestEveryMessageFitsDiscordsLimits(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	for locale, msgs := range readLocales(t) {
		args := longestArgs(c.For(locale))
		for id, m := range msgs {
			limit := limitOf(id)
			for form, text := range m {
				tmpl, err := template.New(id).Option("missingkey=error").Parse(text)
				if err != nil {
					t.Errorf("%s %s.%s does not parse: %v", locale, id, form, err)
					continue
				}
				var b strings.Builder
				if err := tmpl.Execute(&b, args); err != nil {
					t.Errorf("%s %s.%s: %v (give the placeholder its longest value in longestArgs)", locale, id, form, err)
					continue
				}
				if n := utf8.RuneCountInString(b.String()); n > limit {
					t.Errorf("%s %s.%s has %d characters at its longest; Discord allows %d: %q", locale, id, form, n, limit, text)
				}
			}
		}
	}
}

func TestLimitsFollowTheIDs(t *testing.T) {
	t.Parallel()
	for id, want := range map[ID]int{CmdSong: 100, CmdSongadminShowcaseChannel: 100, ButtonCancel: 80, FieldPrompt: 256, Untitled: 256, Composing: maxContent} {
		if got := limitOf(string(id)); got != want {
			t.Errorf("limitOf(%q) = %d; want %d", id, got, want)
		}
	}
}
