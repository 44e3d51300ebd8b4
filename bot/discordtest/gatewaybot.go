package discordtest

import (
	"net/http"
	"strconv"
)

// SessionStartLimit is GET /gateway/bot's session_start_limit: how many
// sessions may still be started today, when that count resets, and how
// many IDENTIFYs may be sent per 5 seconds (one per bucket, shard id
// modulo MaxConcurrency).
type SessionStartLimit struct {
	Total, Remaining int
	ResetAfter       int // milliseconds
	MaxConcurrency   int
}

// getGatewayBot is GET /gateway/bot with the configured shard count and
// start limits.
func (s *Server) getGatewayBot(*call) reply {
	l := s.SessionStartLimit
	return jsonReply(http.StatusOK, map[string]any{
		"url":    s.wsURL,
		"shards": max(s.Shards, 1),
		"session_start_limit": map[string]any{
			"total": l.Total, "remaining": l.Remaining, "reset_after": l.ResetAfter, "max_concurrency": l.MaxConcurrency,
		},
	})
}

// getApplication is GET /oauth2/applications/@me: the bot's application,
// what a bot without a gateway session learns its id from.
func (s *Server) getApplication(*call) reply {
	return jsonReply(http.StatusOK, map[string]any{
		"id":                     s.AppID,
		"name":                   "songbot",
		"icon":                   nil,
		"description":            "",
		"bot_public":             true,
		"bot_require_code_grant": false,
		"verify_key":             s.publicKeyHex(),
		"flags":                  0,
		"bot":                    s.botUser(),
	})
}

// ShardOf is the shard Discord sends a guild's events to, (guild_id >> 22)
// % Shards; events without a guild (DMs) go to shard 0.
func (s *Server) ShardOf(guildID string) int {
	s.mu.Lock()
	n := max(s.Shards, 1)
	s.mu.Unlock()
	return shardOf(guildID, n)
}

func shardOf(guildID string, shards int) int {
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil || shards <= 1 {
		return 0
	}
	return int((id >> 22) % uint64(shards))
}
