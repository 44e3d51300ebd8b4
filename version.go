package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is the one place a release names itself: set it at build time
// with -ldflags "-X main.version=1.2.3" (the Dockerfile does, from its
// VERSION build argument). Everything else (the User-Agents, the
// songbot_build_info metric, `songbot version`) reads buildVersion.
var version = "dev"

// revision is the commit a binary was built from when the go command could
// not record it: the Docker build has no .git, so the Dockerfile sets it
// with -ldflags "-X main.revision=…" from its REVISION build argument.
// The vcs.revision the go command records wins when there is one.
var revision = ""

// buildVersion is version, or, for a binary built by
// `go install github.com/songbot-dev/songbot@v1.2.3` without ldflags, the
// module version the go command recorded.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	return versionOf(version, bi, ok)
}

func versionOf(v string, bi *debug.BuildInfo, ok bool) string {
	if v == "dev" && ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return v
}

// userAgent names this build to Whisul, with the module path so that
// Whisul's operators can find the project.
func userAgent() string {
	return "github.com/songbot-dev/songbot/" + buildVersion() + " (+https://github.com/songbot-dev/songbot)"
}

const versionUsage = `usage: songbot version   (or songbot --version)

Prints the version, the Go version it was built with, and the VCS
revision (with "modified" when the tree had uncommitted changes), for bug
reports and for telling deployments apart. A binary built outside a git
checkout, such as the Docker image, prints the commit given at build time
with -ldflags "-X main.revision=..." (the image's REVISION build argument),
or "commit  unknown".
`

// runVersion prints what versionText says.
func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if err := noArgs(fs, args, versionUsage, stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	_, err := io.WriteString(stdout, versionText(versionOf(version, bi, ok), bi, ok))
	return err
}

// versionText is the report of `songbot version`:
//
//	songbot 1.2.3
//	go      go1.26.8
//	commit  0123abcd… (modified) 2026-02-17T15:39:34Z
func versionText(v string, bi *debug.BuildInfo, ok bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "songbot %s\n", v)
	settings := map[string]string{}
	if ok {
		fmt.Fprintf(&b, "go      %s\n", bi.GoVersion)
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	} else {
		b.WriteString("go      unknown (no build information in this binary)\n")
	}
	rev := settings["vcs.revision"]
	switch {
	case rev == "" && revision != "":
		// Set by -X main.revision; whether the tree was modified is unknown.
		fmt.Fprintf(&b, "commit  %s\n", revision)
		return b.String()
	case rev == "":
		b.WriteString("commit  unknown (built without VCS information: outside a git checkout, or an image built without --build-arg REVISION)\n")
		return b.String()
	}
	line := "commit  " + rev
	if settings["vcs.modified"] == "true" {
		line += " (modified)"
	}
	if t := settings["vcs.time"]; t != "" {
		line += " " + t
	}
	b.WriteString(line + "\n")
	return b.String()
}
