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

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
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

// cardinalCategories are the CLDR cardinal categories go-i18n picks for
// whole numbers in locale, found by asking it.
func cardinalCategories(t *testing.T, locale string) []string {
	t.Helper()
	probe := cardinalProbe(t, locale)
	seen := map[string]bool{}
	for _, n := range sampleCounts() {
		seen[probe(n)] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

func sampleCounts() []int {
	var ns []int
	for n := range 1200 {
		ns = append(ns, n)
	}
	return append(ns, 1_000_000, 2_000_000, 1_000_001, 10_000_000)
}

// cardinalCategory asks go-i18n which form of a message it would use for
// n in locale, with a message whose every form is its own name.
func cardinalProbe(t *testing.T, locale string) func(n int) string {
	t.Helper()
	tag := language.MustParse(locale)
	b := goi18n.NewBundle(tag)
	b.MustAddMessages(tag, &goi18n.Message{ID: "probe", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"})
	l := goi18n.NewLocalizer(b, locale)
	return func(n int) string {
		s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: "probe", PluralCount: n})
		if err != nil {
			t.Fatalf("probe %s %d: %v", locale, n, err)
		}
		return s
	}
}

// TestOrdinalMessages checks that each locale has exactly the ordinal
// categories its language uses.
func TestOrdinalMessages(t *testing.T) {
	t.Parallel()
	locales := readLocales(t)
	for locale, msgs := range locales {
		tag := language.MustParse(locale)
		for _, stem := range ordinalStems {
			need := map[string]bool{}
			for _, n := range sampleCounts() {
				need[OrdinalCategory(tag, n)] = true
			}
			have := map[string]bool{}
			for id, m := range msgs {
				if s, c, ok := ordinalStem(id); ok && s == stem {
					have[c] = true
					checkLikeSource(t, locale, id, m["other"], locales[Source][stem+"_other"]["other"])
				}
			}
			if got, want := slices.Sorted(maps.Keys(have)), slices.Sorted(maps.Keys(need)); !slices.Equal(got, want) {
				t.Errorf("%s.json has %s_ for %v; its ordinal categories are %v", locale, stem, got, want)
			}
		}
	}
}

// TestPluralAndOrdinalForms spells out, for each locale, the cardinal and
// ordinal category of 1, 2, 3, 4, 11, 21, 22, 23 and 101 (one letter each:
// z one two few many other = 0 1 2 f m o) and checks the rendered texts.
func TestPluralAndOrdinalForms(t *testing.T) {
	t.Parallel()
	numbers := []int{1, 2, 3, 4, 11, 21, 22, 23, 101}
	letter := map[string]string{"zero": "0", "one": "1", "two": "2", "few": "f", "many": "m", "other": "o"}
	want := map[string][2]string{
		// locale: cardinal, ordinal
		"en-US":  {"1oooooooo", "12foo12f1"},
		"de":     {"1oooooooo", "ooooooooo"},
		"es-ES":  {"1oooooooo", "ooooooooo"},
		"es-419": {"1oooooooo", "ooooooooo"},
		"fr":     {"1oooooooo", "1oooooooo"},
		"it":     {"1oooooooo", "oooomoooo"},
		"ja":     {"ooooooooo", "ooooooooo"},
		"ko":     {"ooooooooo", "ooooooooo"},
		"nl":     {"1oooooooo", "ooooooooo"},
		"pl":     {"1fffmmffm", "ooooooooo"},
		"pt-BR":  {"1oooooooo", "ooooooooo"},
		"ru":     {"1fffm1ff1", "ooooooooo"},
		"tr":     {"1oooooooo", "ooooooooo"},
		"uk":     {"1fffm1ff1", "oofoooofo"},
		"zh-CN":  {"ooooooooo", "ooooooooo"},
		"zh-TW":  {"ooooooooo", "ooooooooo"},
	}
	c := mustLoad(t)
	for _, locale := range c.Locales() {
		w, ok := want[locale]
		if !ok {
			t.Errorf("no expected forms for %s: add its row", locale)
			continue
		}
		tag := language.MustParse(locale)
		probe := cardinalProbe(t, locale)
		var card, ord strings.Builder
		for _, n := range numbers {
			card.WriteString(letter[probe(n)])
			ord.WriteString(letter[OrdinalCategory(tag, n)])
		}
		if card.String() != w[0] || ord.String() != w[1] {
			t.Errorf("%s categories of %v: cardinal %s, ordinal %s; want %s, %s", locale, numbers, card.String(), ord.String(), w[0], w[1])
		}
	}

	rendered := []struct {
		locale       string
		days, inLine []string
	}{
		{"en-US",
			[]string{"1 day", "2 days", "3 days", "4 days", "11 days", "21 days", "22 days", "23 days", "101 days"},
			[]string{"1st in line", "2nd in line", "3rd in line", "4th in line", "11th in line", "21st in line", "22nd in line", "23rd in line", "101st in line"}},
		{"fr",
			[]string{"1 jour", "2 jours", "3 jours", "4 jours", "11 jours", "21 jours", "22 jours", "23 jours", "101 jours"},
			[]string{"1re dans la file", "2e dans la file", "3e dans la file", "4e dans la file", "11e dans la file", "21e dans la file", "22e dans la file", "23e dans la file", "101e dans la file"}},
		{"it",
			[]string{"1 giorno", "2 giorni", "3 giorni", "4 giorni", "11 giorni", "21 giorni", "22 giorni", "23 giorni", "101 giorni"},
			[]string{"al 1º posto in coda", "al 2º posto in coda", "al 3º posto in coda", "al 4º posto in coda", "all'11º posto in coda", "al 21º posto in coda", "al 22º posto in coda", "al 23º posto in coda", "al 101º posto in coda"}},
		{"pl",
			[]string{"1 dzień", "2 dni", "3 dni", "4 dni", "11 dni", "21 dni", "22 dni", "23 dni", "101 dni"},
			[]string{"na 1. miejscu w kolejce", "na 2. miejscu w kolejce", "na 3. miejscu w kolejce", "na 4. miejscu w kolejce", "na 11. miejscu w kolejce", "na 21. miejscu w kolejce", "na 22. miejscu w kolejce", "na 23. miejscu w kolejce", "na 101. miejscu w kolejce"}},
		{"ru",
			[]string{"1 день", "2 дня", "3 дня", "4 дня", "11 дней", "21 день", "22 дня", "23 дня", "101 день"},
			[]string{"1-я в очереди", "2-я в очереди", "3-я в очереди", "4-я в очереди", "11-я в очереди", "21-я в очереди", "22-я в очереди", "23-я в очереди", "101-я в очереди"}},
		{"uk",
			[]string{"1 день", "2 дні", "3 дні", "4 дні", "11 днів", "21 день", "22 дні", "23 дні", "101 день"},
			[]string{"на 1-му місці в черзі", "на 2-му місці в черзі", "на 3-му місці в черзі", "на 4-му місці в черзі", "на 11-му місці в черзі", "на 21-му місці в черзі", "на 22-му місці в черзі", "на 23-му місці в черзі", "на 101-му місці в черзі"}},
		{"ja",
			[]string{"1日", "2日", "3日", "4日", "11日", "21日", "22日", "23日", "101日"},
			[]string{"順番待ちの1番目", "順番待ちの2番目", "順番待ちの3番目", "順番待ちの4番目", "順番待ちの11番目", "順番待ちの21番目", "順番待ちの22番目", "順番待ちの23番目", "順番待ちの101番目"}},
	}
	for _, r := range rendered {
		p := c.For(r.locale)
		for i, n := range numbers {
			if got := p.Plural(Days, n, nil); got != r.days[i] {
				t.Errorf("For(%q).Plural(Days, %d) = %q; want %q", r.locale, n, got, r.days[i])
			}
			if got := p.Ordinal(InLine, n, nil); got != r.inLine[i] {
				t.Errorf("For(%q).Ordinal(InLine, %d) = %q; want %q", r.locale, n, got, r.inLine[i])
			}
		}
	}
	// Every locale, every number: a text in the locale's own words, never
	// an ID or English filling a gap.
	en := c.For(Source)
	for _, locale := range c.Locales() {
		p := c.For(locale)
		for _, n := range append(numbers, 1_000_000) {
			for _, id := range []ID{Days, Hours, Minutes, RefusedUserActive, RefusedDaily, RefusedGuildActive, RefusedQueueFull, PromptTooLong} {
				got := p.Plural(id, n, Args{"When": "<t:1:R>", "Max": 200})
				if !strings.Contains(got, strconv.Itoa(n)) || strings.Contains(got, "<no value>") || got == string(id) {
					t.Errorf("For(%q).Plural(%s, %d) = %q; want the number and no gaps", locale, id, n, got)
				}
				if locale != Source && got == en.Plural(id, n, Args{"When": "<t:1:R>", "Max": 200}) && !sameInEnglish[locale+"/"+string(id)] {
					t.Errorf("For(%q).Plural(%s, %d) = %q, the English text", locale, id, n, got)
				}
			}
			if got := p.Ordinal(InLine, n, nil); !strings.Contains(got, strconv.Itoa(n)) || got == string(InLine)+"_other" {
				t.Errorf("For(%q).Ordinal(InLine, %d) = %q", locale, n, got)
			}
		}
	}
}

// sameInEnglish are the locale/ID of texts written as in English.
var sameInEnglish = map[string]bool{"fr/minutes": true}

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
		{[]string{"hr", "de"}, "en-US"}, // the server's language decides, even unsupported
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
