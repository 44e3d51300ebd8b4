package bot

import (
	"testing"

	"github.com/songbot-dev/songbot/bot/i18n"
)

// english is the printer of the source language, what users get when
// Discord sends no locale or one the catalogue lacks.
func english(tb testing.TB) *i18n.Printer {
	tb.Helper()
	c, err := i18n.Load()
	if err != nil {
		tb.Fatalf("i18n.Load() = %v", err)
	}
	return c.For(i18n.Source)
}
