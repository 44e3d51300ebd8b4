package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/songbot-dev/songbot/bot/i18n"
	"github.com/songbot-dev/songbot/storage"
)

func TestOrdinal(t *testing.T) {
	t.Parallel()
	en := english(t)
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 102: "102nd", 111: "111th"} {
		if got := strings.TrimSuffix(en.Ordinal(i18n.InLine, n, nil), " in line"); got != want {
			t.Errorf("Ordinal(InLine, %d) = %q; want %q in line", n, got, want)
		}
	}
}

func TestPolicyRefuse(t *testing.T) {
	t.Parallel()
	p := policy{allowedGuilds: []string{"g1"}, blockedUsers: []string{"u9"}, words: newWordFilter([]string{"forbidden"})}
	tests := []struct {
		guild, user, prompt string
		want                RefusalReason
	}{
		{"g1", "u1", "a nice song", ""},
		{"", "u1", "a DM song", RefusedDMNotAllowed},
		{"g2", "u1", "a nice song", RefusedGuildNotAllowed},
		{"g1", "u9", "a nice song", RefusedBlockedUser},
		{"", "u9", "a DM song", RefusedDMNotAllowed},
		{"g1", "u1", "a Forbidden song", RefusedBlockedWord},
	}
	for _, tt := range tests {
		if got := p.refuse(tt.guild, tt.user, tt.prompt); got != tt.want {
			t.Errorf("refuse(%q, %q, %q) = %q; want %q", tt.guild, tt.user, tt.prompt, got, tt.want)
		}
	}
	// ALLOW_DMS lets DMs through the server allow-list, and only DMs.
	p.allowDMs = true
	for _, tt := range []struct {
		guild string
		want  RefusalReason
		user  string
	}{{"", "", "u1"}, {"g1", "", "u1"}, {"g2", RefusedGuildNotAllowed, "u1"}, {"", RefusedBlockedUser, "u9"}} {
		if got := p.refuse(tt.guild, tt.user, "a song"); got != tt.want {
			t.Errorf("with ALLOW_DMS, refuse(%q) = %q; want %q", tt.guild, got, tt.want)
		}
	}
	// Without an allow-list, DMs work whatever ALLOW_DMS says.
	if got := (policy{}).refuse("", "u1", "a song"); got != "" {
		t.Errorf("without ALLOWED_GUILD_IDS, a DM is refused: %q", got)
	}
}

func TestRefusalTextSaysWhichLimitAndWhen(t *testing.T) {
	t.Parallel()
	limits := storage.Limits{UserMaxActive: 2, UserDailyLimit: 5, GuildMaxActive: 10, GuildDailyLimit: 40, MaxQueued: 200}
	at := time.Unix(1_800_000_000, 0)
	tests := []struct {
		reason RefusalReason
		want   []string
	}{
		{RefusedUserActive, []string{"2 songs"}},
		{RefusedCooldown, []string{"<t:1800000000:R>"}},
		{RefusedDaily, []string{"5 songs", "daily limit", "<t:1800000000:R>"}},
		{RefusedGuildActive, []string{"10 songs", "server"}},
		{RefusedQueueFull, []string{"queue is full", "200 songs"}},
		{RefusedGuildDaily, []string{"40 songs", "server", "<t:1800000000:R>"}},
		{RefusedBotDaily, []string{"today", "<t:1800000000:R>"}},
		{RefusedPaused, []string{"paused", "no songs during the talk"}},
		{RefusedDMNotAllowed, []string{"server"}},
		{RefusedBlockedWord, []string{"isn't allowed"}},
		{RefusedGuildNotAllowed, []string{"server"}},
		{RefusedBlockedUser, []string{"can't"}},
	}
	for _, tt := range tests {
		got := refusalText(english(t), tt.reason, storage.Admission{Limits: limits, RetryAt: at, PauseReason: "no songs during the talk"})
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("refusalText(%q) = %q; want it to contain %q", tt.reason, got, w)
			}
		}
	}
}
