package bot

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// wordFilter refuses prompts that contain a blocked word or phrase. Both
// sides are compared as words: case, accents and punctuation are ignored,
// and a blocked word never matches inside a longer one ("ass" does not
// match "class").
type wordFilter struct {
	phrases [][]string
}

func newWordFilter(blocked []string) wordFilter {
	var f wordFilter
	for _, b := range blocked {
		if words := normalizeWords(b); len(words) > 0 {
			f.phrases = append(f.phrases, words)
		}
	}
	return f
}

// blocks reports whether text contains a blocked phrase.
func (f wordFilter) blocks(text string) bool {
	if len(f.phrases) == 0 {
		return false
	}
	words := normalizeWords(text)
	for _, p := range f.phrases {
		for i := 0; i+len(p) <= len(words); i++ {
			if slices.Equal(words[i:i+len(p)], p) {
				return true
			}
		}
	}
	return false
}

// normalizeWords splits s into lower-case words without diacritics, after
// Unicode compatibility normalisation (so "ｆｕｌｌ" and "full" match).
func normalizeWords(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining mark: the accent of the letter before it
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(' ')
		}
	}
	return strings.Fields(b.String())
}
