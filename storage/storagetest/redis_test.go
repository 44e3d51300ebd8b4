package storagetest_test

import (
	"testing"

	"github.com/songbot-dev/songbot/storage/storagetest"
)

// TestRedisURLIgnoresREDIS_URL checks that tests never reach the Redis an
// operator configured for the bot.
func TestRedisURLIgnoresREDIS_URL(t *testing.T) {
	const operator = "redis://operator.example:6379/0"
	t.Setenv("REDIS_URL", operator)
	t.Setenv("TEST_REDIS_URL", "")
	if got := storagetest.RedisURL(t); got == operator {
		t.Errorf("RedisURL() with only REDIS_URL set = %q; want a private server", got)
	}
	const test = "redis://tests.example:6379/1"
	t.Setenv("TEST_REDIS_URL", test)
	if got := storagetest.RedisURL(t); got != test {
		t.Errorf("RedisURL() with TEST_REDIS_URL set = %q; want %q", got, test)
	}
}
