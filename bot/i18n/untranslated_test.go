package i18n

import (
	"slices"
	"testing"
	"unicode"
)

// writtenAsInEnglish are the texts a language writes as English does, by
// ID, with the locales that do ("*": every locale). Anything else a
// translation has word for word as en-US is taken for a text left
// untranslated.
var writtenAsInEnglish = map[ID][]string{
	FieldBPM:  {"*"},                       // the tempo's unit everywhere
	FieldTags: {"de", "fr", "nl", "pt-BR"}, // the loanword these languages use
	Minutes:   {"fr"},                      // "1 minute", "5 minutes"
}

func sameAsEnglish(locale, id string) bool {
	l := writtenAsInEnglish[ID(id)]
	return slices.Contains(l, "*") || slices.Contains(l, locale)
}

// wordless reports whether a text has no letters outside its
// placeholders ("🕒 {{.Position}}: {{.Prompt}}"): nothing to translate.
func wordless(text string) bool {
	for _, r := range placeholder.ReplaceAllString(text, "") {
		if unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// TestNoTextIsLeftInEnglish flags every form of every message that a
// locale has exactly as en-US has it, unless it has no words or
// writtenAsInEnglish names it.
func TestNoTextIsLeftInEnglish(t *testing.T) {
	t.Parallel()
	locales := readLocales(t)
	src := locales[Source]
	for locale, msgs := range locales {
		if locale == Source {
			continue
		}
		for id, m := range msgs {
			for form, text := range m {
				if text != src[id][form] || wordless(text) || sameAsEnglish(locale, id) {
					continue
				}
				t.Errorf("%s.json %q.%s is the English text %q: translate it, or add it to writtenAsInEnglish if %s writes it so", locale, id, form, text, locale)
			}
		}
	}
}

func TestWrittenAsInEnglishIsStillSo(t *testing.T) {
	t.Parallel()
	locales := readLocales(t)
	for id, ls := range writtenAsInEnglish {
		for _, l := range ls {
			if l == "*" {
				continue
			}
			en, tr := locales[Source][string(id)], locales[l][string(id)]
			if en["other"] != tr["other"] {
				t.Errorf("writtenAsInEnglish lets %s %q be English, but it is translated (%q): remove it from the list", l, id, tr["other"])
			}
		}
	}
}
