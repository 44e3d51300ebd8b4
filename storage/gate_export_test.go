package storage

// RedisKeyBase returns "<prefix>{<tag>}:", which starts every key of r, so
// tests can name the gate's keys as doc.go does.
func RedisKeyBase(r *Redis) string { return r.keys.base }
