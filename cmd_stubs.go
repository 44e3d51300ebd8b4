package main

import (
	"context"
	"errors"
	"io"
)

// errChecksFailed is returned by doctor when a check failed; it has
// printed why, and the program exits 1.
var errChecksFailed = errors.New("some checks failed")

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("doctor: not implemented yet")
}

func runSong(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("song: not implemented yet")
}
