package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// frontendCheck looks at what the bot will start: in gateway mode, GET
// /gateway/bot's recommended shard count against SHARD_COUNT and the
// session starts left today; with the interactions endpoint, that
// DISCORD_PUBLIC_KEY is this application's key (GET
// /oauth2/applications/@me), without which Discord's requests fail
// verification. It runs after the token check and is skipped without one.
func frontendCheck(opts discordOptions, apiURL string, tokenOK func() bool) check {
	name := "gateway"
	if opts.Interactions {
		name = "interactions"
	}
	return check{Name: name, Run: func(ctx context.Context) (string, error) {
		if !tokenOK() {
			return "", skip("needs an accepted Discord token")
		}
		s, err := discordSession(opts.Token, apiURL, opts.Transport)
		if err != nil {
			return "", err
		}
		if opts.Interactions {
			return publicKeyCheck(ctx, s, opts.PublicKey)
		}
		return gatewayCheck(ctx, s, opts.ShardCount, opts.ShardIDs)
	}}
}

func publicKeyCheck(ctx context.Context, s *discordgo.Session, key ed25519.PublicKey) (string, error) {
	body, err := s.RequestWithBucketID(http.MethodGet, discordgo.EndpointOAuth2Application("@me"), nil,
		discordgo.EndpointOAuth2Application(""), discordgo.WithContext(ctx))
	if err != nil {
		return "", discordProblem(err, "Discord", "check DISCORD_TOKEN")
	}
	var app struct {
		VerifyKey string `json:"verify_key"`
	}
	if err := json.Unmarshal(body, &app); err != nil || app.VerifyKey == "" {
		return "", fmt.Errorf("GET /oauth2/applications/@me carried no verify_key; try again later")
	}
	if !strings.EqualFold(app.VerifyKey, hex.EncodeToString(key)) {
		return "", fmt.Errorf("DISCORD_PUBLIC_KEY is not this application's public key, so every request Discord sends would fail verification: copy it again from the developer portal (your application → General Information → Public Key)")
	}
	return "DISCORD_PUBLIC_KEY matches the application; set the portal's Interactions Endpoint URL to your public HTTPS address + /interactions", nil
}

func gatewayCheck(ctx context.Context, s *discordgo.Session, count int, ids []int) (string, error) {
	gb, err := s.GatewayBot(discordgo.WithContext(ctx))
	if err != nil {
		return "", discordProblem(err, "Discord", "check DISCORD_TOKEN")
	}
	runs := "all shards"
	if len(ids) > 0 {
		runs = fmt.Sprintf("shards %v", ids)
	}
	total := count
	if total == 0 {
		total = max(gb.Shards, 1)
	}
	lim := gb.SessionStartLimit
	detail := fmt.Sprintf("Discord recommends %d shard(s); this process runs %s of %d; %d session starts left today", gb.Shards, runs, total, lim.Remaining)
	switch {
	case count > 0 && count < gb.Shards:
		return "", warn(detail + fmt.Sprintf(": SHARD_COUNT=%d is below Discord's recommendation, which it may refuse (close code 4011); set SHARD_COUNT to %d or more, or to 0", count, gb.Shards))
	case lim.Remaining == 0:
		wait := (time.Duration(lim.ResetAfter) * time.Millisecond).Round(time.Second)
		return "", warn(detail + fmt.Sprintf(": none left, the bot waits %v before it connects (is something restarting it in a loop?)", wait))
	}
	return detail, nil
}
