package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/songbot-dev/songbot/storage"
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

	MaxRunning      int           `envconfig:"MAX_RUNNING" default:"20" desc:"songs generating at Whisul at once, across all processes (0 = no limit)"`
	MaxQueued       int           `envconfig:"MAX_QUEUED" default:"200" desc:"songs waiting for a slot, across all processes (0 = no limit)"`
	UserMaxActive   int           `envconfig:"USER_MAX_ACTIVE" default:"2" desc:"one user's songs running or queued (0 = no limit)"`
	UserCooldown    time.Duration `envconfig:"USER_COOLDOWN" default:"15s" desc:"least time between two submissions by one user (0 = none)"`
	UserDailyLimit  int           `envconfig:"USER_DAILY_LIMIT" default:"0" desc:"songs per user per UTC day (0 = no limit)"`
	GuildMaxActive  int           `envconfig:"GUILD_MAX_ACTIVE" default:"0" desc:"one server's songs running or queued (0 = no limit)"`
	AllowedGuildIDs []string      `envconfig:"ALLOWED_GUILD_IDS" desc:"comma-separated servers where the bot works; empty = everywhere (DMs always work)"`
	BlockedUserIDs  []string      `envconfig:"BLOCKED_USER_IDS" desc:"comma-separated users refused"`
	BlockedWords    []string      `envconfig:"BLOCKED_WORDS" desc:"comma-separated words or phrases refused in prompts (case, accents and punctuation ignored; whole words only)"`

	HistoryTTL time.Duration `envconfig:"HISTORY_TTL" default:"720h" desc:"how long finished songs stay listed in /songs and their Regenerate buttons work (0 = for ever)"`

	HTTPAddr string `envconfig:"HTTP_ADDR" default:"127.0.0.1:8080" desc:"address of the operator HTTP server (/healthz, /readyz, /metrics); empty turns it off"`

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
	for _, v := range []struct {
		name  string
		value int64
	}{
		{"POLL_INTERVAL", int64(c.PollInterval)}, {"JOB_TIMEOUT", int64(c.JobTimeout)}, {"PROMPT_MAX_LENGTH", int64(c.PromptMaxLength)},
		{"MAX_RUNNING", int64(c.MaxRunning)}, {"MAX_QUEUED", int64(c.MaxQueued)}, {"USER_MAX_ACTIVE", int64(c.UserMaxActive)},
		{"USER_COOLDOWN", int64(c.UserCooldown)}, {"USER_DAILY_LIMIT", int64(c.UserDailyLimit)}, {"GUILD_MAX_ACTIVE", int64(c.GuildMaxActive)},
		{"HISTORY_TTL", int64(c.HistoryTTL)},
	} {
		if v.value < 0 {
			errs = append(errs, fmt.Errorf("%s cannot be negative (0 switches it off)", v.name))
		}
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

// limits are the fair-use limits the store applies.
func (c config) limits() storage.Limits {
	return storage.Limits{
		MaxRunning:     c.MaxRunning,
		MaxQueued:      c.MaxQueued,
		UserMaxActive:  c.UserMaxActive,
		UserCooldown:   c.UserCooldown,
		UserDailyLimit: c.UserDailyLimit,
		GuildMaxActive: c.GuildMaxActive,
	}
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
