package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand: its name, the line the top-level help shows
// for it, and what runs it. One table feeds dispatch, `songbot help` and
// `songbot help <command>`, so a command is named once.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env lookupFunc, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"doctor", "check the configuration, the store, Whisul and Discord", runDoctor},
		{"song", `make one song from the terminal, without Discord: songbot song "<prompt>"`, runSong},
		{"healthcheck", "exit 0 if the running bot answers GET /healthz on HTTP_ADDR within 2s, else 1", runHealthcheck},
		{"version", "print the version, the Go version and the VCS revision (also --version)", withoutEnv(runVersion)},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// withoutEnv adapts a command that reads no environment variable.
func withoutEnv(run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) func(context.Context, []string, lookupFunc, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, _ lookupFunc, stdout, stderr io.Writer) error {
		return run(ctx, args, stdout, stderr)
	}
}

// run runs the command args names, reading the environment through env
// (os.LookupEnv in the program), and blocks until it ends or ctx ends.
// With no arguments it runs the bot.
func run(ctx context.Context, args []string, env lookupFunc, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return runBot(ctx, env, stderr)
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage())
		return nil
	case "-version", "--version":
		return runVersion(ctx, args[1:], stdout, stderr)
	case "help":
		if len(args) == 1 {
			fmt.Fprint(stdout, usage())
			return nil
		}
		switch args[1] {
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage())
			return nil
		}
		c, ok := findCommand(args[1])
		if !ok {
			return unknownCommand(args[1])
		}
		return c.run(ctx, []string{"--help"}, env, stdout, stderr)
	}
	c, ok := findCommand(args[0])
	if !ok {
		return unknownCommand(args[0])
	}
	return c.run(ctx, args[1:], env, stdout, stderr)
}

// unknownCommand words an argument that names no command; one that starts
// with a dash is a flag, and the only flags before a command are --help and
// --version.
func unknownCommand(name string) error {
	if len(name) > 1 && strings.HasPrefix(name, "-") {
		return usageError{fmt.Sprintf("unknown flag %q; before a command songbot takes only --help and --version (run songbot --help)", name)}
	}
	names := make([]string, 0, len(commands()))
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return usageError{fmt.Sprintf("unknown command %q; the commands are %s (run songbot --help)", name, strings.Join(names, ", "))}
}

// usage is the whole program's help; each subcommand has its own --help.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: songbot [command] [flags]\n\nCommands:\n")
	width := len("(none)")
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	fmt.Fprintf(&b, "  %-*s  %s\n", width, "(none)", "run the bot")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(&b, "  %-*s  %s\n", width, "help", "show a command's help: songbot help <command>")
	b.WriteString("\n")
	b.WriteString(envHelp())
	return b.String()
}

// errReported is returned by a command that has already printed why it
// failed, such as doctor's check lines; the program exits 1 quietly.
var errReported = errors.New("failed; see above")

// exitStatus prints err for the operator and returns the process's exit
// status: 0 for success, 2 for a command line or configuration to fix
// before anything can run, 1 for everything else.
func exitStatus(err error, stderr io.Writer) int {
	var ce configError
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errReported):
		return 1
	case errors.As(err, &ce), errors.As(err, &ue):
		fmt.Fprintln(stderr, "songbot:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "songbot:", err)
		return 1
	}
}
