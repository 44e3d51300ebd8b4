package main

import (
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/songbot-dev/songbot/internal/secret"
	"github.com/songbot-dev/songbot/storage"
)

// config is everything the bot reads from the environment. env.go reads it
// by envconfig's tags and decodes it as envconfig does: envconfig names the
// variable, default is used when it is unset, required marks what the bot
// cannot start without, and desc feeds `songbot --help`. file, our own
// tag, lets NAME_FILE name a file holding the value instead (for Docker
// and Kubernetes secrets, which docker inspect does not show); it is for
// secret.Value fields. README.md's table must list the same variables with
// the same defaults, and .env.example too (readme_test.go checks both).
type config struct {
	DiscordToken   secret.Value `envconfig:"DISCORD_TOKEN" required:"true" file:"true" desc:"bot token; the 'Bot ' prefix is added when missing"`
	DiscordAPIURL  string       `envconfig:"DISCORD_API_URL" default:"https://discord.com" desc:"origin of Discord's HTTP API (for REST proxies and tests)"`
	DiscordGuildID string       `envconfig:"DISCORD_GUILD_ID" desc:"register the commands in this guild only (instant, for development); empty registers them globally"`

	WhisulAPIKey secret.Value `envconfig:"WHISUL_API_KEY" required:"true" file:"true" desc:"Whisul API key"`
	WhisulAPIURL string       `envconfig:"WHISUL_API_URL" default:"https://whisul.com/api" desc:"Whisul base URL"`

	RedisURL    secret.Value `envconfig:"REDIS_URL" file:"true" desc:"Redis for pending jobs (redis://, rediss://, unix://); empty uses the embedded store"`
	RedisPrefix string       `envconfig:"REDIS_PREFIX" default:"songbot:" desc:"prefix of every Redis key"`
	DataDir     string       `envconfig:"DATA_DIR" default:"./data" desc:"folder of the embedded store"`

	PollInterval    time.Duration `envconfig:"POLL_INTERVAL" default:"5s" desc:"time between two polls of one job (Whisul asks for 5-10s; 0 polls back to back)"`
	JobTimeout      time.Duration `envconfig:"JOB_TIMEOUT" default:"30m" desc:"give up on a job after this long and tell the user (0 = never)"`
	PromptMaxLength int           `envconfig:"PROMPT_MAX_LENGTH" default:"1000" desc:"longest prompt accepted, in characters (0 = Discord's own limit, 6000)"`
	PollConcurrency int           `envconfig:"POLL_CONCURRENCY" default:"0" desc:"most songs polled at Whisul at once by this process; below it, as many as Whisul's round trip needs (0 = the default, 1000: enough for 20,000 songs polled every 5s)"`
	WhisulMaxRPS    float64       `envconfig:"WHISUL_MAX_RPS" default:"0" desc:"Whisul requests per second this process sends at most, submissions and polls together (0 = no cap: the rate follows Whisul's 429s)"`

	MaxRunning      int           `envconfig:"MAX_RUNNING" default:"20" desc:"songs generating at Whisul at once, across all processes (0 = no limit)"`
	MaxQueued       int           `envconfig:"MAX_QUEUED" default:"200" desc:"songs waiting for a slot, across all processes (0 = no limit)"`
	UserMaxActive   int           `envconfig:"USER_MAX_ACTIVE" default:"2" desc:"one user's songs running or queued (0 = no limit)"`
	UserCooldown    time.Duration `envconfig:"USER_COOLDOWN" default:"15s" desc:"least time between two submissions by one user (0 = none)"`
	UserDailyLimit  int           `envconfig:"USER_DAILY_LIMIT" default:"0" desc:"songs per user per UTC day (0 = no limit)"`
	GuildMaxActive  int           `envconfig:"GUILD_MAX_ACTIVE" default:"0" desc:"one server's songs running or queued (0 = no limit)"`
	GuildDailyLimit int           `envconfig:"GUILD_DAILY_LIMIT" default:"0" desc:"songs per server per UTC day; /songadmin limits can change it per server (0 = no limit)"`
	DailyLimit      int           `envconfig:"DAILY_LIMIT" default:"0" desc:"songs per UTC day for the whole bot, across all processes: a spend cap (0 = no limit)"`
	AllowedGuildIDs []string      `envconfig:"ALLOWED_GUILD_IDS" desc:"comma-separated servers where the bot works; empty = everywhere. When set, DMs and private channels are refused too, unless ALLOW_DMS is true"`
	AllowDMs        bool          `envconfig:"ALLOW_DMS" default:"false" desc:"with ALLOWED_GUILD_IDS set, still make songs in DMs and private channels"`
	BlockedUserIDs  []string      `envconfig:"BLOCKED_USER_IDS" desc:"comma-separated users refused"`
	BlockedWords    []string      `envconfig:"BLOCKED_WORDS" desc:"comma-separated words or phrases refused in prompts (case, accents and punctuation ignored; whole words only)"`

	AudioMemoryMB int `envconfig:"AUDIO_MEMORY_MB" default:"40" desc:"MiB of song audio downloaded and held for upload at once, across all deliveries (0 = no bound)"`

	HistoryTTL time.Duration `envconfig:"HISTORY_TTL" default:"720h" desc:"how long finished songs stay listed in /songs and their Regenerate buttons work (0 = for ever)"`

	HTTPAddr string `envconfig:"HTTP_ADDR" default:"127.0.0.1:8080" desc:"address of the operator HTTP server (/healthz, /readyz, /metrics); empty turns it off"`

	// Scaling out; see scaling.go.
	ShardCount       int    `envconfig:"SHARD_COUNT" default:"0" desc:"gateway shards the bot has in all (0 = the count Discord recommends)"`
	ShardIDs         string `envconfig:"SHARD_IDS" desc:"the shards this process runs, e.g. 0-3,8; empty = all of them"`
	InteractionsAddr string `envconfig:"INTERACTIONS_ADDR" desc:"serve Discord's interactions endpoint (POST /interactions) on this address, e.g. :8081, instead of the gateway; empty = gateway"`
	DiscordPublicKey string `envconfig:"DISCORD_PUBLIC_KEY" desc:"the application's public key (hex, developer portal → General Information); required with INTERACTIONS_ADDR"`

	LogLevel  string `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	LogFormat string `envconfig:"LOG_FORMAT" default:"text" desc:"text or json"`
}

// validate returns one problem per variable whose value the bot cannot use,
// each saying what to do, keyed by the variable's name so that a command
// reading only some variables reports only theirs.
func (c config) validate() map[string]string {
	problems := map[string]string{}
	if strings.TrimSpace(c.DiscordToken.Reveal()) == "" {
		problems["DISCORD_TOKEN"] = notSet("DISCORD_TOKEN")
	}
	if strings.TrimSpace(c.WhisulAPIKey.Reveal()) == "" {
		problems["WHISUL_API_KEY"] = notSet("WHISUL_API_KEY")
	}
	for _, v := range []struct {
		name  string
		value int64
	}{
		{"POLL_INTERVAL", int64(c.PollInterval)}, {"JOB_TIMEOUT", int64(c.JobTimeout)}, {"PROMPT_MAX_LENGTH", int64(c.PromptMaxLength)},
		{"POLL_CONCURRENCY", int64(c.PollConcurrency)},
		{"MAX_RUNNING", int64(c.MaxRunning)}, {"MAX_QUEUED", int64(c.MaxQueued)}, {"USER_MAX_ACTIVE", int64(c.UserMaxActive)},
		{"USER_COOLDOWN", int64(c.UserCooldown)}, {"USER_DAILY_LIMIT", int64(c.UserDailyLimit)}, {"GUILD_MAX_ACTIVE", int64(c.GuildMaxActive)},
		{"GUILD_DAILY_LIMIT", int64(c.GuildDailyLimit)}, {"AUDIO_MEMORY_MB", int64(c.AudioMemoryMB)}, {"DAILY_LIMIT", int64(c.DailyLimit)},
		{"HISTORY_TTL", int64(c.HistoryTTL)}, {"SHARD_COUNT", int64(c.ShardCount)},
	} {
		if v.value < 0 {
			problems[v.name] = fmt.Sprintf("%s cannot be negative: set it to a positive value, or to 0 to switch it off", v.name)
		}
	}
	if c.WhisulMaxRPS < 0 || math.IsNaN(c.WhisulMaxRPS) || math.IsInf(c.WhisulMaxRPS, 0) {
		problems["WHISUL_MAX_RPS"] = "WHISUL_MAX_RPS must be a number of requests per second, 0 or more: set it to your Whisul plan's limit, or to 0 for no cap"
	}
	if c.PromptMaxLength > 6000 {
		problems["PROMPT_MAX_LENGTH"] = fmt.Sprintf("PROMPT_MAX_LENGTH is %d: Discord allows at most 6000; set it to 6000 or less (0 means 6000)", c.PromptMaxLength)
	}
	for name, problem := range c.scalingProblems() {
		problems[name] = problem
	}
	if _, err := c.level(); err != nil {
		problems["LOG_LEVEL"] = err.Error()
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		problems["LOG_FORMAT"] = fmt.Sprintf("LOG_FORMAT is %q: set it to text or json", c.LogFormat)
	}
	return problems
}

// whereToGet says where the value of each required variable comes from.
var whereToGet = map[string]string{
	"DISCORD_TOKEN":  "your bot's token (Discord developer portal → your application → Bot → Reset Token)",
	"WHISUL_API_KEY": "your Whisul API key (Whisul account dashboard → API keys)",
}

// notSet is the problem of a required variable that is unset (the
// required tag) or blank (validate): both get the same words.
func notSet(name string) string {
	return fmt.Sprintf("%s is not set: set it to %s, or %s_FILE to a file holding it", name, whereToGet[name], name)
}

// audioMemory is AUDIO_MEMORY_MB in bytes, as bot.Options.AudioMemory
// takes it: 0 (off) becomes no bound.
func (c config) audioMemory() int64 {
	if c.AudioMemoryMB == 0 {
		return -1
	}
	return int64(c.AudioMemoryMB) << 20
}

// boltPath is the embedded store's file, in DATA_DIR.
func (c config) boltPath() string { return filepath.Join(c.DataDir, storage.DefaultBoltFile) }

// limits are the fair-use limits the store applies.
func (c config) limits() storage.Limits {
	return storage.Limits{
		MaxRunning:      c.MaxRunning,
		MaxQueued:       c.MaxQueued,
		UserMaxActive:   c.UserMaxActive,
		UserCooldown:    c.UserCooldown,
		UserDailyLimit:  c.UserDailyLimit,
		GuildMaxActive:  c.GuildMaxActive,
		GuildDailyLimit: c.GuildDailyLimit,
		DailyLimit:      c.DailyLimit,
	}
}

func (c config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return l, fmt.Errorf("LOG_LEVEL is %q: set it to debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
