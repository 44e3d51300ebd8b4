package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// The helpers every subcommand uses to read its command line, so that
// --help, bad flags and flags after words behave the same in each.

// usageError is a command line that cannot be run; the program prints it
// and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parseFlags parses a subcommand's flags; --help prints usage and the
// flags to stdout and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(fs, usage, stdout)
		return err
	}
	if err != nil {
		return usageError{fmt.Sprintf("%s: %v; run songbot %s --help", fs.Name(), err, fs.Name())}
	}
	return nil
}

// printHelp prints a subcommand's usage, then its flags if it has any.
func printHelp(fs *flag.FlagSet, usage string, w io.Writer) {
	fmt.Fprint(w, usage)
	if hasFlags(fs) {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseInterleaved parses flags before, between and after the words, so
// `songbot song "a prompt" --json` works; after "--" all is words.
func parseInterleaved(fs *flag.FlagSet, args []string, usage string, stdout io.Writer) ([]string, error) {
	var words []string
	for len(args) > 0 {
		if err := parseFlags(fs, args, usage, stdout); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(words, rest...), nil
		}
		if len(rest) == 0 {
			break
		}
		words = append(words, rest[0])
		args = rest[1:]
	}
	return words, nil
}

// flagSet reports whether name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// noArgs parses a subcommand that takes flags only.
func noArgs(fs *flag.FlagSet, args []string, usage string, stdout io.Writer) error {
	if err := parseFlags(fs, args, usage, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s takes no arguments; run songbot %s --help", fs.Name(), fs.Name())}
	}
	return nil
}
