package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// closeAuthFailed is the gateway's close code for a token it does not
// accept; trying again cannot help.
const closeAuthFailed = 4004

// Backoff between attempts to open the gateway: from openMinWait, doubling,
// capped at openMaxWait so a bot started during an outage connects within
// half a minute of Discord coming back.
const (
	openMinWait = 500 * time.Millisecond
	openMaxWait = 30 * time.Second
)

// open connects to the gateway. A failure that may pass (the network, a
// gateway that is down for a moment) is logged and retried with capped,
// jittered backoff until ctx ends; a refused token (close 4004) is returned
// at once, wrapped so the caller can tell it apart.
func (b *Bot) open(ctx context.Context, s *discordgo.Session) error {
	wait := openMinWait
	for {
		err := s.Open()
		if err == nil {
			return nil
		}
		if ce := (*websocket.CloseError)(nil); errors.As(err, &ce) && ce.Code == closeAuthFailed {
			return fmt.Errorf("discord: the gateway refused the token (check DISCORD_TOKEN): %w", redact(err))
		}
		b.log.Warn("cannot connect to the Discord gateway; retrying (check the network and DISCORD_API_URL)", "err", redact(err), "retry_in", wait)
		if !sleep(ctx, wait/2+rand.N(wait/2+1)) {
			return fmt.Errorf("discord: connect to the gateway (check the network and DISCORD_API_URL): %w", redact(err))
		}
		wait = min(2*wait, openMaxWait)
	}
}
