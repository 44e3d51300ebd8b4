package i18n

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

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
		left         []string // songs left today, where given
	}{
		{"en-US",
			[]string{"1 day", "2 days", "3 days", "4 days", "11 days", "21 days", "22 days", "23 days", "101 days"},
			[]string{"1st in line", "2nd in line", "3rd in line", "4th in line", "11th in line", "21st in line", "22nd in line", "23rd in line", "101st in line"},
			[]string{"You can make 1 more song today.", "You can make 2 more songs today.", "You can make 3 more songs today.", "You can make 4 more songs today.",
				"You can make 11 more songs today.", "You can make 21 more songs today.", "You can make 22 more songs today.", "You can make 23 more songs today.",
				"You can make 101 more songs today."}},
		{"fr",
			[]string{"1 jour", "2 jours", "3 jours", "4 jours", "11 jours", "21 jours", "22 jours", "23 jours", "101 jours"},
			[]string{"1re dans la file", "2e dans la file", "3e dans la file", "4e dans la file", "11e dans la file", "21e dans la file", "22e dans la file", "23e dans la file", "101e dans la file"}, nil},
		{"it",
			[]string{"1 giorno", "2 giorni", "3 giorni", "4 giorni", "11 giorni", "21 giorni", "22 giorni", "23 giorni", "101 giorni"},
			[]string{"al 1º posto in coda", "al 2º posto in coda", "al 3º posto in coda", "al 4º posto in coda", "all'11º posto in coda", "al 21º posto in coda", "al 22º posto in coda", "al 23º posto in coda", "al 101º posto in coda"}, nil},
		{"pl",
			[]string{"1 dzień", "2 dni", "3 dni", "4 dni", "11 dni", "21 dni", "22 dni", "23 dni", "101 dni"},
			[]string{"na 1. miejscu w kolejce", "na 2. miejscu w kolejce", "na 3. miejscu w kolejce", "na 4. miejscu w kolejce", "na 11. miejscu w kolejce", "na 21. miejscu w kolejce", "na 22. miejscu w kolejce", "na 23. miejscu w kolejce", "na 101. miejscu w kolejce"},
			// one, few, few, few, many, many, few, few, many
			[]string{"Możesz dziś stworzyć jeszcze 1 piosenkę.", "Możesz dziś stworzyć jeszcze 2 piosenki.", "Możesz dziś stworzyć jeszcze 3 piosenki.",
				"Możesz dziś stworzyć jeszcze 4 piosenki.", "Możesz dziś stworzyć jeszcze 11 piosenek.", "Możesz dziś stworzyć jeszcze 21 piosenek.",
				"Możesz dziś stworzyć jeszcze 22 piosenki.", "Możesz dziś stworzyć jeszcze 23 piosenki.", "Możesz dziś stworzyć jeszcze 101 piosenek."}},
		{"ru",
			[]string{"1 день", "2 дня", "3 дня", "4 дня", "11 дней", "21 день", "22 дня", "23 дня", "101 день"},
			[]string{"1-я в очереди", "2-я в очереди", "3-я в очереди", "4-я в очереди", "11-я в очереди", "21-я в очереди", "22-я в очереди", "23-я в очереди", "101-я в очереди"},
			// one, few, few, few, many, one, few, few, one
			[]string{"Сегодня вы можете создать ещё 1 песню.", "Сегодня вы можете создать ещё 2 песни.", "Сегодня вы можете создать ещё 3 песни.",
				"Сегодня вы можете создать ещё 4 песни.", "Сегодня вы можете создать ещё 11 песен.", "Сегодня вы можете создать ещё 21 песню.",
				"Сегодня вы можете создать ещё 22 песни.", "Сегодня вы можете создать ещё 23 песни.", "Сегодня вы можете создать ещё 101 песню."}},
		{"uk",
			[]string{"1 день", "2 дні", "3 дні", "4 дні", "11 днів", "21 день", "22 дні", "23 дні", "101 день"},
			[]string{"на 1-му місці в черзі", "на 2-му місці в черзі", "на 3-му місці в черзі", "на 4-му місці в черзі", "на 11-му місці в черзі", "на 21-му місці в черзі", "на 22-му місці в черзі", "на 23-му місці в черзі", "на 101-му місці в черзі"}, nil},
		{"ja",
			[]string{"1日", "2日", "3日", "4日", "11日", "21日", "22日", "23日", "101日"},
			[]string{"順番待ちの1番目", "順番待ちの2番目", "順番待ちの3番目", "順番待ちの4番目", "順番待ちの11番目", "順番待ちの21番目", "順番待ちの22番目", "順番待ちの23番目", "順番待ちの101番目"}, nil},
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
			if r.left == nil {
				continue
			}
			if got := p.Plural(SongsLeftToday, n, nil); got != r.left[i] {
				t.Errorf("For(%q).Plural(SongsLeftToday, %d) = %q; want %q", r.locale, n, got, r.left[i])
			}
		}
	}
	// Every locale, every number: a text in the locale's own words, never
	// an ID or English filling a gap.
	en := c.For(Source)
	for _, locale := range c.Locales() {
		p := c.For(locale)
		for _, n := range append(numbers, 1_000_000) {
			for _, id := range []ID{Days, Hours, Minutes, Seconds, RefusedUserActive, RefusedDaily, RefusedGuildActive, RefusedGuildDaily, RefusedQueueFull, PromptTooLong, SongsLeftToday} {
				got := p.Plural(id, n, Args{"When": "<t:1:R>", "Max": 200})
				if !strings.Contains(got, strconv.Itoa(n)) || strings.Contains(got, "<no value>") || got == string(id) {
					t.Errorf("For(%q).Plural(%s, %d) = %q; want the number and no gaps", locale, id, n, got)
				}
				if locale != Source && got == en.Plural(id, n, Args{"When": "<t:1:R>", "Max": 200}) && !sameAsEnglish(locale, string(id)) {
					t.Errorf("For(%q).Plural(%s, %d) = %q, the English text", locale, id, n, got)
				}
			}
			if got := p.Ordinal(InLine, n, nil); !strings.Contains(got, strconv.Itoa(n)) || got == string(InLine)+"_other" {
				t.Errorf("For(%q).Ordinal(InLine, %d) = %q", locale, n, got)
			}
		}
	}
}
