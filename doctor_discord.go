package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/bot"
	"github.com/songbot-dev/songbot/internal/secret"
)

// discordOptions say which bot the Discord checks look at.
type discordOptions struct {
	Token   string // bot token, with or without the "Bot " prefix
	APIURL  string // Discord's origin; default https://discord.com
	GuildID string // where /song should be registered; empty = globally
	// Transport carries the requests; default http.DefaultTransport.
	Transport http.RoundTripper

	// How the bot meets Discord, for the gateway or interactions check.
	Interactions bool              // INTERACTIONS_ADDR is set
	PublicKey    ed25519.PublicKey // DISCORD_PUBLIC_KEY, parsed
	ShardCount   int               // SHARD_COUNT; 0 = Discord's recommendation
	ShardIDs     []int             // SHARD_IDS; empty = all
}

// discordChecks returns three checks: the token is accepted (GET
// users/@me); /song is registered where the bot registers it; and the
// gateway or the interactions endpoint is set up (see frontendCheck). The
// others are skipped when the first fails; the second only warns when /song is simply not
// there yet: the bot registers its commands whenever it connects, so a
// correct setup before the first start must not fail the doctor.
//
// The application id is taken to be the bot user's id, true of every
// application created since 2019; the bot itself reads it from READY.
func discordChecks(opts discordOptions) []check {
	apiURL := opts.APIURL
	if apiURL == "" {
		apiURL = "https://discord.com"
	}
	where := secret.URL(apiURL)
	var appID string
	token := check{Name: "discord token", Run: func(ctx context.Context) (string, error) {
		s, err := discordSession(opts.Token, apiURL, opts.Transport)
		if err != nil {
			return "", err
		}
		u, err := s.User("@me", discordgo.WithContext(ctx))
		if err != nil {
			return "", discordProblem(err, where, "set DISCORD_TOKEN to the token on the Bot page of your application in the Discord developer portal")
		}
		appID = u.ID
		return fmt.Sprintf("accepted: bot %s (id %s)", u.Username, u.ID), nil
	}}
	command := check{Name: "song command", Run: func(ctx context.Context) (string, error) {
		if appID == "" {
			return "", skip("needs an accepted Discord token")
		}
		scope := "globally"
		if opts.GuildID != "" {
			scope = "in guild " + opts.GuildID
		}
		s, err := discordSession(opts.Token, apiURL, opts.Transport)
		if err != nil {
			return "", err
		}
		cmds, err := s.ApplicationCommands(appID, opts.GuildID, discordgo.WithContext(ctx))
		if err != nil {
			return "", discordProblem(err, where, "check DISCORD_GUILD_ID and that the bot is in that guild")
		}
		for _, c := range cmds {
			if c.Name == bot.SongCommandName && (c.Type == 0 || c.Type == discordgo.ChatApplicationCommand) {
				return "/song is registered " + scope, nil
			}
		}
		hint := "the bot registers it when it connects; run the doctor again after the bot's first start"
		if opts.GuildID == "" {
			hint += " (global commands may take a while to show in Discord; set DISCORD_GUILD_ID to a test guild for instant ones)"
		}
		return "", warn(fmt.Sprintf("/song is not registered %s yet; %s", scope, hint))
	}}
	return []check{token, command, frontendCheck(opts, apiURL, func() bool { return appID != "" })}
}

// discordProblem words a failed Discord call for the operator.
func discordProblem(err error, where, fix string) error {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		switch status := re.Response.StatusCode; status {
		case http.StatusUnauthorized:
			return fmt.Errorf("rejected (401) by %s: %s", where, fix)
		case http.StatusForbidden, http.StatusNotFound:
			return fmt.Errorf("%s answered %d: %s", where, status, fix)
		default:
			return fmt.Errorf("%s answered %d: Discord may be having trouble; try again later", where, status)
		}
	}
	return fmt.Errorf("could not reach Discord at %s: %v: check the network and DISCORD_API_URL", where, secret.WithoutURL(err))
}

// discordSession is a REST-only session whose requests go to apiURL with
// paths unchanged, as the bot's own does (bot/discord.go).
func discordSession(token, apiURL string, base http.RoundTripper) (*discordgo.Session, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	s, err := bot.NewSession(token, apiURL, base, bot.UserAgent(buildVersion()))
	if err != nil {
		return nil, fmt.Errorf("DISCORD_API_URL %q must be an http(s) origin such as https://discord.com", secret.URL(apiURL))
	}
	s.Client.Timeout = checkTimeout
	s.MaxRestRetries = 1
	return s, nil
}
