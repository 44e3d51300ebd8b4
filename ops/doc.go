// Package ops is songbot's operator side while the bot runs: the
// Prometheus metrics the bot reports (Metrics) and the HTTP server for
// probes and scrapes (NewHandler, Listen). The subcommands an operator runs
// by hand (doctor, song, healthcheck) live with the rest of the command
// line in package main.
//
// Only package main imports ops. Its messages name the environment
// variables an operator sets, since saying what to change is their point,
// but ops reads no environment itself.
package ops
