package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// No Docker engine or registry is available to the tests, so these read
// the Dockerfile and compose.yaml for what issue 17 asks of them.

// dockerfile returns the Dockerfile's instructions, continuation lines
// joined, each with the comment lines just above it.
func dockerfile(t *testing.T) (instrs []string, comments []string) {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var cur, above strings.Builder
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		trimmed := strings.TrimSpace(line)
		switch {
		case cur.Len() == 0 && strings.HasPrefix(trimmed, "#"):
			above.WriteString(trimmed + "\n")
		case cur.Len() == 0 && trimmed == "":
			above.Reset()
		case strings.HasSuffix(trimmed, `\`):
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
		default:
			cur.WriteString(trimmed)
			instrs = append(instrs, cur.String())
			comments = append(comments, above.String())
			cur.Reset()
			above.Reset()
		}
	}
	return instrs, comments
}

var fromLine = regexp.MustCompile(`^FROM (--platform=\S+ )?(\S+?)(@sha256:[0-9a-f]{64})?( AS \S+)?$`)

func TestDockerfile(t *testing.T) {
	t.Parallel()
	instrs, comments := dockerfile(t)
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if goVersion == nil {
		t.Fatal("go.mod has no go line")
	}
	var froms []string
	has := func(prefix, sub string) bool {
		for _, in := range instrs {
			if strings.HasPrefix(in, prefix) && strings.Contains(in, sub) {
				return true
			}
		}
		return false
	}
	for i, in := range instrs {
		if !strings.HasPrefix(in, "FROM ") {
			continue
		}
		m := fromLine.FindStringSubmatch(in)
		if m == nil {
			t.Errorf("Dockerfile: cannot read %q", in)
			continue
		}
		image := m[2]
		froms = append(froms, in)
		name, tag, ok := strings.Cut(image, ":")
		if !ok || tag == "latest" {
			t.Errorf("Dockerfile: %s is not pinned to a tag", image)
		}
		if name == "golang" && !strings.HasPrefix(tag, string(goVersion[1])+"-") {
			t.Errorf("Dockerfile: %s; want the exact Go of go.mod, golang:%s-…", image, goVersion[1])
		}
		if m[3] == "" {
			t.Errorf("Dockerfile: %s is not pinned by digest (image:tag@sha256:…)", image)
		}
		if !strings.Contains(comments[i], image) {
			t.Errorf("Dockerfile: FROM %s has no comment naming its tag (for readers once a digest pins it)", image)
		}
	}
	if len(froms) != 2 || !strings.HasPrefix(froms[0], "FROM --platform=$BUILDPLATFORM ") {
		t.Errorf("Dockerfile stages %q; want a build stage FROM --platform=$BUILDPLATFORM and a runtime stage", froms)
	}
	for _, c := range []struct{ prefix, sub, why string }{
		{"ARG", "TARGETOS", "cross-compilation"},
		{"ARG", "TARGETARCH", "cross-compilation"},
		{"RUN", "GOOS=$TARGETOS GOARCH=$TARGETARCH", "cross-compilation"},
		{"RUN", "--mount=type=cache,target=/go/pkg/mod", "a module cache mount"},
		{"RUN", "--mount=type=cache,target=/root/.cache/go-build", "a build cache mount"},
		{"RUN", "-X main.version=${VERSION}", "the one ldflags target"},
		{"ARG", "VERSION", "a VERSION build argument"},
		{"LABEL", "org.opencontainers.image.source=", "OCI labels"},
		{"LABEL", "org.opencontainers.image.version=\"${VERSION}\"", "OCI labels"},
		{"LABEL", "org.opencontainers.image.title=", "OCI labels"},
		{"HEALTHCHECK", `CMD ["/songbot", "healthcheck"]`, "a health check that needs no curl"},
		{"USER", "65532", "a numeric non-root user"},
	} {
		if !has(c.prefix, c.sub) {
			t.Errorf("Dockerfile: no %s instruction with %q (%s)", c.prefix, c.sub, c.why)
		}
	}
	if _, ok := findCommand("healthcheck"); !ok {
		t.Error("the HEALTHCHECK runs songbot healthcheck, which is not a command")
	}
}

// composeBlock returns the lines indented under the key at the given
// indentation, e.g. composeBlock(lines, "  bot:").
func composeBlock(t *testing.T, lines []string, key string) string {
	t.Helper()
	indent := len(key) - len(strings.TrimLeft(key, " "))
	var b strings.Builder
	in := false
	for _, l := range lines {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		lead := len(l) - len(strings.TrimLeft(l, " "))
		switch {
		case l == key:
			in = true
		case in && lead <= indent:
			return b.String()
		case in:
			b.WriteString(strings.TrimSpace(l) + "\n")
		}
	}
	if !in {
		t.Fatalf("compose.yaml has no %q", key)
	}
	return b.String()
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	bot := composeBlock(t, lines, "  bot:")
	redis := composeBlock(t, lines, "  redis:")
	logging := composeBlock(t, lines, "x-logging: &logging")
	secrets := composeBlock(t, lines, "secrets:")
	for _, c := range []struct{ block, name, want string }{
		{bot, "bot", "VERSION: ${VERSION:-dev}"},
		{bot, "bot", "read_only: true"},
		{bot, "bot", "cap_drop: [ALL]"},
		{bot, "bot", "- no-new-privileges:true"},
		{bot, "bot", "logging: *logging"},
		{bot, "bot", "DISCORD_TOKEN_FILE: /run/secrets/discord_token"},
		{bot, "bot", "WHISUL_API_KEY_FILE: /run/secrets/whisul_api_key"},
		{bot, "bot", "- discord_token\n- whisul_api_key\n"},
		{bot, "bot", "condition: service_healthy"},
		{redis, "redis", `test: ["CMD", "redis-cli", "ping"]`},
		{redis, "redis", "logging: *logging"},
		{logging, "x-logging", `max-size: "10m"`},
		{logging, "x-logging", `max-file: "3"`},
		{secrets, "secrets", "discord_token:\nfile: ./secrets/discord_token\n"},
		{secrets, "secrets", "whisul_api_key:\nfile: ./secrets/whisul_api_key\n"},
	} {
		if !strings.Contains(c.block, c.want) {
			t.Errorf("compose.yaml: %s lacks %q:\n%s", c.name, c.want, c.block)
		}
	}
	// Every NAME_FILE compose sets is one the bot reads.
	fileVars := map[string]bool{}
	for _, v := range readmeConfigVars(t) {
		if v.file {
			fileVars[v.name+"_FILE"] = true
		}
	}
	for _, m := range regexp.MustCompile(`([A-Z_]+_FILE):`).FindAllStringSubmatch(bot, -1) {
		if !fileVars[m[1]] {
			t.Errorf("compose.yaml sets %s, which songbot does not read", m[1])
		}
	}
}
