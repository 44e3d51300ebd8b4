// Package ops is songbot's operator side: the Prometheus metrics the bot
// reports (Metrics), the HTTP server for probes and scrapes (NewHandler,
// Listen), the checks of `songbot doctor` (RunChecks and the Check
// constructors) and `songbot song` (RunSong).
//
// Only package main imports ops. Its messages name the environment
// variables an operator sets (WHISUL_API_KEY, REDIS_URL, ...), since saying
// what to change is their point, but ops reads no environment itself.
package ops
