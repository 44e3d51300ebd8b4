package i18n

import (
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// Printer writes messages in one locale. A message the locale lacks is
// written in English; one English lacks too is written as its ID, which
// the tests catch.
type Printer struct {
	locale string
	tag    language.Tag
	loc    *goi18n.Localizer
}

// Locale is the printer's Discord locale.
func (p *Printer) Locale() string { return p.locale }

// Text writes a message without placeholders.
func (p *Printer) Text(id ID) string { return p.localize(id, nil, nil) }

// Format writes a message with its placeholders filled from args.
func (p *Printer) Format(id ID, args Args) string { return p.localize(id, args, nil) }

// Plural writes a message whose words depend on the count n, which fills
// its {{.Count}} placeholder.
func (p *Printer) Plural(id ID, n int, args Args) string {
	return p.localize(id, withCount(args, n), n)
}

// Ordinal writes the message id_<category> for the ordinal n ("3rd in
// line"), the category being the locale's CLDR ordinal category of n; n
// fills {{.Count}}.
func (p *Printer) Ordinal(id ID, n int, args Args) string {
	return p.localize(ID(string(id)+"_"+OrdinalCategory(p.tag, n)), withCount(args, n), nil)
}

func (p *Printer) localize(id ID, args Args, count any) string {
	cfg := &goi18n.LocalizeConfig{MessageID: string(id), PluralCount: count}
	if args != nil {
		cfg.TemplateData = map[string]any(args)
	}
	s, err := p.loc.Localize(cfg)
	if s == "" && err != nil {
		return string(id)
	}
	return s
}

func withCount(args Args, n int) Args {
	out := make(Args, len(args)+1)
	for k, v := range args {
		out[k] = v
	}
	out["Count"] = n
	return out
}

// OrdinalCategory is the CLDR ordinal category of n in the language of
// tag: "one", "two", "few", "many" or "other" ("zero" in none of the
// catalogue's languages).
func OrdinalCategory(tag language.Tag, n int) string {
	switch plural.Ordinal.MatchPlural(tag, n, 0, 0, 0, 0) {
	case plural.Zero:
		return "zero"
	case plural.One:
		return "one"
	case plural.Two:
		return "two"
	case plural.Few:
		return "few"
	case plural.Many:
		return "many"
	}
	return "other"
}
