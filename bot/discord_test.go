package bot

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// discordUserAgent is Discord's documented form for a bot's User-Agent.
var discordUserAgent = regexp.MustCompile(`^DiscordBot \((https://[^,() ]+), ([^,() ]+)\)$`)

func TestUserAgentIsDiscordsFormWithTheModulePath(t *testing.T) {
	t.Parallel()
	ua := UserAgent("1.2.3")
	m := discordUserAgent.FindStringSubmatch(ua)
	if m == nil || m[2] != "1.2.3" {
		t.Fatalf("UserAgent(1.2.3) = %q; want DiscordBot ($url, 1.2.3)", ua)
	}
	f, err := os.Open("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	module, ok := strings.CutPrefix(sc.Text(), "module ")
	if !ok {
		t.Fatalf("go.mod starts with %q; want its module line", sc.Text())
	}
	if want := "https://" + module; m[1] != want {
		t.Errorf("UserAgent's URL = %q; want %q, the module path", m[1], want)
	}
}
