// Package i18n is songbot's message catalogue: every text a Discord user
// reads, in English (en-US, the source) and in the languages of the files in
// locales/, one JSON file per Discord locale, embedded in the binary.
//
// Messages are go-i18n messages: Go templates ({{.Prompt}}) with CLDR
// cardinal plural forms ("one", "few", "many", "other") where a count
// changes the words. Ordinals ("3rd in line") are one message per CLDR
// ordinal category, named ID_category (in_line_few), chosen with
// golang.org/x/text/feature/plural: go-i18n has cardinal rules only.
//
// Adding a language is adding locales/<discord locale>.json with every key
// of en-US.json and running go test ./bot/ ./bot/i18n/: the tests name
// what is missing, what has the wrong placeholders or plural forms, what
// is too long for Discord and what is still the English text.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var files embed.FS

// Source is the catalogue's source locale, where every text is written
// first and where any other locale falls back.
const Source = "en-US"

// ID names a message: a key of the locale files.
type ID string

// Args are a message's template values by placeholder name.
type Args map[string]any

// Catalogue holds every locale's messages. It is read-only once loaded and
// safe for concurrent use.
type Catalogue struct {
	printers map[string]*Printer // by Discord locale
	locales  []string            // Source first, then sorted
}

// Load parses the embedded locale files.
func Load() (*Catalogue, error) { return load(files) }

// MustLoad is Load for callers that cannot go on without the catalogue;
// the embedded files are checked by this package's tests, so it fails only
// on a build whose tests fail too.
func MustLoad() *Catalogue {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

func load(fsys fs.FS) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return nil, fmt.Errorf("i18n: list locale files: %w", err)
	}
	bundle := goi18n.NewBundle(language.MustParse(Source))
	c := &Catalogue{printers: map[string]*Printer{}}
	for _, name := range names {
		locale := strings.TrimSuffix(path.Base(name), ".json")
		tag, err := language.Parse(locale)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: the file name is not a locale: %w", name, err)
		}
		if _, err := bundle.LoadMessageFileFS(fsys, name); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		c.printers[locale] = &Printer{locale: locale, tag: tag, loc: goi18n.NewLocalizer(bundle, locale)}
	}
	if c.printers[Source] == nil {
		return nil, fmt.Errorf("i18n: no locales/%s.json, the source", Source)
	}
	c.locales = slices.Sorted(maps.Keys(c.printers))
	c.locales = slices.DeleteFunc(c.locales, func(l string) bool { return l == Source })
	c.locales = append([]string{Source}, c.locales...)
	return c, nil
}

// Locales lists the catalogue's locales, Source first.
func (c *Catalogue) Locales() []string { return slices.Clone(c.locales) }

// For returns the printer of the first locale of prefs the catalogue
// has, en-GB counting as en-US, and English when it has none of them.
// Empty and unsupported preferences are passed over: a message for a
// Croatian server whose requester writes German is in German, which at
// least the requester reads, rather than in English.
func (c *Catalogue) For(prefs ...string) *Printer {
	for _, p := range prefs {
		if alias, ok := aliases[p]; ok {
			p = alias
		}
		if pr := c.printers[p]; pr != nil {
			return pr
		}
	}
	return c.printers[Source]
}

// aliases are the Discord locales written as another of the catalogue's.
var aliases = map[string]string{"en-GB": Source}

// Localizations returns the message in every locale of the catalogue, by
// locale: Discord's name_localizations and description_localizations.
func (c *Catalogue) Localizations(id ID) map[string]string {
	out := make(map[string]string, len(c.locales))
	for _, l := range c.locales {
		out[l] = c.printers[l].Text(id)
	}
	return out
}
