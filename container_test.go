package main

import (
	"bytes"
	"os"
	"regexp"
	"slices"
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
		{"RUN", "-X main.revision=${REVISION}", "the commit, since .dockerignore keeps .git out"},
		{"ARG", "REVISION", "a REVISION build argument"},
		{"LABEL", "org.opencontainers.image.revision=\"${REVISION}\"", "OCI labels"},
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
	// Each stage that uses ${REVISION} declares it (an ARG is per stage).
	stageArgs := map[string]bool{}
	for _, in := range instrs {
		if strings.HasPrefix(in, "FROM ") {
			clear(stageArgs)
		}
		if name, ok := strings.CutPrefix(in, "ARG "); ok {
			name, _, _ = strings.Cut(name, "=")
			stageArgs[name] = true
		}
		for _, arg := range []string{"VERSION", "REVISION"} {
			if strings.Contains(in, "${"+arg+"}") && !stageArgs[arg] {
				t.Errorf("Dockerfile: %q uses ${%s} in a stage without ARG %s", in, arg, arg)
			}
		}
	}
	// The image's songbot version can only name the commit by REVISION
	// while the build context has no .git.
	ignore, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(strings.Fields(string(ignore)), ".git") && !has("RUN", "main.revision=") {
		t.Error(".dockerignore leaves .git out, and the Dockerfile does not set main.revision: the image would say commit unknown")
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
		{bot, "bot", "REVISION: ${REVISION:-}"},
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
	// Redis is pinned like the Dockerfile's base images: by digest, with
	// its tag in the comment just above.
	redisImage := regexp.MustCompile(`^    image: (redis:[^@\s]+)@sha256:[0-9a-f]{64}$`)
	found := false
	inRedis := false
	for i, l := range lines {
		switch {
		case l == "  redis:":
			inRedis = true
			continue
		case inRedis && strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "    "):
			inRedis = false
		}
		if !inRedis || !strings.HasPrefix(strings.TrimSpace(l), "image:") {
			continue
		}
		found = true
		m := redisImage.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("compose.yaml:%d: %q; want image: redis:<tag>@sha256:<64 hex digits>", i+1, strings.TrimSpace(l))
			continue
		}
		if above := strings.TrimSpace(lines[i-1]); !strings.HasPrefix(above, "#") || !strings.Contains(above, m[1]) {
			t.Errorf("compose.yaml:%d: the comment above the redis image does not name its tag %s (for readers of the digest)", i+1, m[1])
		}
	}
	if !found {
		t.Error("compose.yaml: the redis service has no image")
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

// readmeSection returns the lines of README.md under heading (e.g.
// "## Running in Docker") up to the next heading of the same or a higher
// level, subsections included; a # line in a code block is no heading.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	level := strings.Index(heading, " ")
	var out strings.Builder
	in, fenced := false, false
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if hashes := len(line) - len(strings.TrimLeft(line, "#")); !fenced && hashes > 0 && strings.HasPrefix(line[hashes:], " ") && hashes <= level {
			in = strings.TrimSpace(line) == heading
			continue
		}
		if in {
			out.WriteString(line)
		}
	}
	if out.Len() == 0 {
		t.Fatalf("README.md has no section %q", heading)
	}
	return out.String()
}

// TestReadmeDockerMatchesTheFiles keeps the README's Docker section in step
// with how the Dockerfile and compose.yaml pin images and name the build.
func TestReadmeDockerMatchesTheFiles(t *testing.T) {
	t.Parallel()
	docker := readmeSection(t, "## Running in Docker")
	// The README wraps lines; compare words.
	text := strings.Join(strings.Fields(docker), " ")
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^FROM .*@sha256:[0-9a-f]{64}`).Match(dockerfile) {
		if !strings.Contains(text, "pinned by digest") || !strings.Contains(text, "docker buildx imagetools inspect") {
			t.Error(`README.md "Running in Docker" does not say the base images are pinned by digest and how to update them (docker buildx imagetools inspect)`)
		}
		for _, stale := range []string{"pinned to exact tags", "by digest too", "to pin them by digest"} {
			if strings.Contains(text, stale) {
				t.Errorf(`README.md "Running in Docker" says %q, but the Dockerfile pins by digest`, stale)
			}
		}
	}
	for _, arg := range []string{"VERSION", "REVISION"} {
		if bytes.Contains(dockerfile, []byte("ARG "+arg)) && !strings.Contains(text, "--build-arg "+arg+"=") {
			t.Errorf(`README.md "Running in Docker" does not show --build-arg %s=, which the Dockerfile takes`, arg)
		}
	}
}
