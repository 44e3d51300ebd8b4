package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// config is everything the bot reads from the environment. The desc tags
// feed `songbot --help`; README.md's table must list the same variables
// (a test checks it).
type config struct {
	DiscordToken   secret `envconfig:"DISCORD_TOKEN" required:"true" desc:"bot token (required); the 'Bot ' prefix is added when missing"`
	DiscordAPIURL  string `envconfig:"DISCORD_API_URL" default:"https://discord.com" desc:"origin of Discord's HTTP API (for REST proxies and tests)"`
	DiscordGuildID string `envconfig:"DISCORD_GUILD_ID" desc:"register the commands in this guild only (instant, for development); empty registers them globally"`

	WhisulAPIKey secret `envconfig:"WHISUL_API_KEY" required:"true" desc:"Whisul API key (required)"`
	WhisulAPIURL string `envconfig:"WHISUL_API_URL" default:"https://whisul.com/api" desc:"Whisul base URL"`

	RedisURL    string `envconfig:"REDIS_URL" desc:"Redis for pending jobs (redis://, rediss://, unix://); empty uses the embedded store"`
	RedisPrefix string `envconfig:"REDIS_PREFIX" default:"songbot:" desc:"prefix of every Redis key"`
	DataDir     string `envconfig:"DATA_DIR" default:"./data" desc:"folder of the embedded store"`

	PollInterval    time.Duration `envconfig:"POLL_INTERVAL" default:"5s" desc:"time between two polls of one job (Whisul asks for 5-10s; 0 polls back to back)"`
	JobTimeout      time.Duration `envconfig:"JOB_TIMEOUT" default:"30m" desc:"give up on a job after this long and tell the user (0 = never)"`
	PromptMaxLength int           `envconfig:"PROMPT_MAX_LENGTH" default:"1000" desc:"longest prompt accepted, in characters (0 = Discord's own limit, 6000)"`

	LogLevel  string `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	LogFormat string `envconfig:"LOG_FORMAT" default:"text" desc:"text or json"`
}

// configError marks a bad environment: the program exits with status 2.
type configError struct{ err error }

func (e configError) Error() string { return "configuration: " + e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// loadConfig reads and checks the environment.
func loadConfig() (config, error) {
	var c config
	if err := envconfig.Process("", &c); err != nil {
		return c, configError{err}
	}
	if err := c.validate(); err != nil {
		return c, configError{err}
	}
	return c, nil
}

func (c config) validate() error {
	var errs []error
	if strings.TrimSpace(string(c.DiscordToken)) == "" {
		errs = append(errs, errors.New("DISCORD_TOKEN is empty; set it to your bot's token from the Discord developer portal"))
	}
	if strings.TrimSpace(string(c.WhisulAPIKey)) == "" {
		errs = append(errs, errors.New("WHISUL_API_KEY is empty; set it to your Whisul API key"))
	}
	if c.PollInterval < 0 || c.JobTimeout < 0 || c.PromptMaxLength < 0 {
		errs = append(errs, errors.New("POLL_INTERVAL, JOB_TIMEOUT and PROMPT_MAX_LENGTH cannot be negative (0 switches each off)"))
	}
	if c.PromptMaxLength > 6000 {
		errs = append(errs, fmt.Errorf("PROMPT_MAX_LENGTH is %d; Discord allows at most 6000", c.PromptMaxLength))
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT is %q; use text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

func (c config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("LOG_LEVEL is %q; use debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// secret holds a token or key; it prints as [redacted] everywhere.
type secret string

func (secret) String() string       { return "[redacted]" }
func (secret) GoString() string     { return "[redacted]" }
func (secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }
