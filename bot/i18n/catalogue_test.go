package i18n

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// discordLocales are the locales Discord sends (discord-notes.md).
var discordLocales = []string{
	"id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl",
	"pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
}

// wantLocales are the languages issue 16 asks for, with the source.
var wantLocales = []string{
	"en-US", "de", "es-419", "es-ES", "fr", "it", "ja", "ko", "nl", "pl", "pt-BR", "ru", "tr", "uk", "zh-CN", "zh-TW",
}

var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// message is one key of a locale file: its forms by CLDR category.
type message map[string]string

func mustLoad(t *testing.T) *Catalogue {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	return c
}

// readLocales decodes every locale file as it is written.
func readLocales(t *testing.T) map[string]map[string]message {
	t.Helper()
	names, err := fs.Glob(files, "locales/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("Glob(locales/*.json) = %v, %v", names, err)
	}
	out := map[string]map[string]message{}
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		msgs := map[string]message{}
		for id, v := range raw {
			var s string
			if json.Unmarshal(v, &s) == nil {
				msgs[id] = message{"other": s}
				continue
			}
			var m message
			if err := json.Unmarshal(v, &m); err != nil {
				t.Fatalf("%s: %s is neither a text nor forms: %v", name, id, err)
			}
			delete(m, "description")
			msgs[id] = m
		}
		out[strings.TrimSuffix(strings.TrimPrefix(name, "locales/"), ".json")] = msgs
	}
	return out
}

// ordinalStems are the IDs whose keys are stem_<category>.
var ordinalStems = []string{string(InLine)}

func ordinalStem(key string) (stem, category string, ok bool) {
	for _, s := range ordinalStems {
		if c, found := strings.CutPrefix(key, s+"_"); found && slices.Contains(pluralForms, c) {
			return s, c, true
		}
	}
	return "", "", false
}

func TestCatalogueHasTheIssuesLocales(t *testing.T) {
	t.Parallel()
	if got := mustLoad(t).Locales(); !slices.Equal(got, wantLocales) {
		t.Errorf("Locales() = %v; want %v", got, wantLocales)
	}
	for _, l := range wantLocales {
		if !slices.Contains(discordLocales, l) {
			t.Errorf("locale %q is not one Discord sends", l)
		}
	}
}

var placeholder = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// symbols are the emoji and other symbols of s, in order: the marks a
// translation keeps.
func symbols(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.Is(unicode.So, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestEveryLocaleHasEveryMessage checks each locale against the source:
// the same keys, every form with the same placeholders and Discord markup
// (emoji, **bold**, `code`, quoted lines), and every cardinal form its
// language needs.
func TestEveryLocaleHasEveryMessage(t *testing.T) {
	t.Parallel()
	locales := readLocales(t)
	src := locales[Source]
	for locale, msgs := range locales {
		if locale == Source {
			continue
		}
		t.Run(locale, func(t *testing.T) {
			t.Parallel()
			needs := cardinalCategories(t, locale)
			for id, en := range src {
				if _, _, ok := ordinalStem(id); ok {
					continue // TestOrdinalMessages
				}
				m, ok := msgs[id]
				if !ok {
					t.Errorf("%s.json has no %q (en-US: %q)", locale, id, en["other"])
					continue
				}
				want := en["other"]
				plural := len(en) > 1
				for form, text := range m {
					switch {
					case !slices.Contains(pluralForms, form):
						t.Errorf("%s.json %q has the key %q; want CLDR plural categories only", locale, id, form)
					case !plural && form != "other":
						t.Errorf("%s.json %q has the plural form %q; the message has no count", locale, id, form)
					case plural && form != "other" && !slices.Contains(needs, form):
						t.Errorf("%s.json %q has the form %q, which %s never uses (it uses %v)", locale, id, form, locale, needs)
					}
					checkLikeSource(t, locale, id+"."+form, text, want)
				}
				if plural {
					for _, form := range append(needs, "other") { // other: go-i18n's fallback
						if m[form] == "" {
							t.Errorf("%s.json %q lacks the plural form %q (%s uses %v)", locale, id, form, locale, needs)
						}
					}
				} else if m["other"] == "" {
					t.Errorf("%s.json %q is empty", locale, id)
				}
			}
			for id := range msgs {
				if _, inSource := src[id]; !inSource {
					if _, _, ok := ordinalStem(id); !ok {
						t.Errorf("%s.json has %q, which en-US.json does not", locale, id)
					}
				}
			}
		})
	}
}

func checkLikeSource(t *testing.T, locale, what, text, src string) {
	t.Helper()
	if got, want := placeholders(text), placeholders(src); !slices.Equal(got, want) {
		t.Errorf("%s %s has placeholders %v; en-US has %v", locale, what, got, want)
	}
	for _, mark := range []string{"**", "`", "\n", "\n> "} {
		if got, want := strings.Count(text, mark), strings.Count(src, mark); got != want {
			t.Errorf("%s %s has %q %d times; en-US %d times: %q", locale, what, mark, got, want, text)
		}
	}
	if got, want := symbols(text), symbols(src); got != want {
		t.Errorf("%s %s has the symbols %q; en-US %q: %q", locale, what, got, want, text)
	}
	if strings.TrimSpace(text) != text {
		t.Errorf("%s %s starts or ends with a space: %q", locale, what, text)
	}
}

func TestIDsAreTheSourceKeys(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "ids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					ids = append(ids, s)
				}
			}
		}
		return true
	})
	src := readLocales(t)[Source]
	keys := map[string]bool{}
	for k := range src {
		if stem, _, ok := ordinalStem(k); ok {
			keys[stem] = true
		} else {
			keys[k] = true
		}
	}
	for _, id := range ids {
		if !keys[id] {
			t.Errorf("ids.go declares %q, which en-US.json lacks", id)
		}
		delete(keys, id)
	}
	for k := range keys {
		t.Errorf("en-US.json has %q, which ids.go does not declare", k)
	}
	for k, m := range src {
		if m["other"] == "" {
			t.Errorf("en-US.json %q has no \"other\" form", k)
		}
	}
}

func TestForFallsBack(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		prefs []string
		want  string
	}{
		{nil, "en-US"},
		{[]string{""}, "en-US"},
		{[]string{"en-GB"}, "en-US"},
		{[]string{"hr"}, "en-US"},
		{[]string{"de"}, "de"},
		{[]string{"es-419"}, "es-419"},
		{[]string{"es-ES"}, "es-ES"},
		{[]string{"zh-TW"}, "zh-TW"},
		{[]string{"", "pt-BR"}, "pt-BR"},
		{[]string{"fr", "pt-BR"}, "fr"},
		// A server's message: the server's language, else the
		// requester's, else English.
		{[]string{"hr", "de"}, "de"},
		{[]string{"hr", "hr"}, "en-US"},
		{[]string{"fr", "de"}, "fr"},
		{[]string{"en-GB", "de"}, "en-US"},
		{[]string{"", "ja"}, "ja"},
		{[]string{"hr", ""}, "en-US"},
	}
	for _, tt := range tests {
		if got := c.For(tt.prefs...).Locale(); got != tt.want {
			t.Errorf("For(%q).Locale() = %q; want %q", tt.prefs, got, tt.want)
		}
	}
	// Each printer writes its own file's words, not a neighbour's.
	files := readLocales(t)
	for _, l := range c.Locales() {
		if got, want := c.For(l).Text(Untitled), files[l][string(Untitled)]["other"]; got != want {
			t.Errorf("For(%q).Text(Untitled) = %q; want %q from %s.json", l, got, want, l)
		}
	}
	for _, l := range discordLocales {
		if got := c.For(l).Text(ButtonListen); got == "" || got == string(ButtonListen) {
			t.Errorf("For(%q).Text(ButtonListen) = %q", l, got)
		}
	}
}

func TestLocalizationsCoverEveryLocale(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	got := c.Localizations(CmdSong)
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(slices.Values(wantLocales))) {
		t.Errorf("Localizations(CmdSong) has %v; want every catalogue locale", keys)
	}
	if got["de"] == got["en-US"] || got["ja"] == "" {
		t.Errorf("Localizations(CmdSong) = %v; want each language's own text", got)
	}
}

func TestTemplateValuesAreNotInterpreted(t *testing.T) {
	t.Parallel()
	p := mustLoad(t).For("de")
	got := p.Format(Composing, Args{"Started": "<t:1:R>", "Prompt": "{{.Started}} and {{template}}"})
	if !strings.Contains(got, "> {{.Started}} and {{template}}") {
		t.Errorf("Format(Composing) with a prompt of template syntax = %q; want the prompt as it is", got)
	}
}
