// Package e2e holds the bot's end-to-end tests: real bot.Bot values, each
// with its real discordgo session, talking to the fake Discord of
// bot/discordtest over HTTP and its gateway, to the fake Whisul of
// whisul/whisultest, and to a real Redis, so several bots can share one
// store as processes do.
//
// They need redis-server on PATH (storagetest starts a private one on a
// free loopback port) or TEST_REDIS_URL. The unit tests of package bot
// need neither.
package e2e
