package bot

import (
	"slices"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestHandlerTableRoutesEachCommandAndButton(t *testing.T) {
	t.Parallel()
	b := newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{}, fakeWhisul{})
	var names []string
	for _, d := range b.handlers.definitions() {
		names = append(names, d.Name)
	}
	if want := []string{"song", "songs", "songadmin"}; !slices.Equal(names, want) {
		t.Errorf("definitions() names = %v; want %v", names, want)
	}
	command := func(name string) incoming {
		return incoming{Interaction: &discordgo.Interaction{Type: discordgo.InteractionApplicationCommand, Data: discordgo.ApplicationCommandInteractionData{Name: name}}}
	}
	button := func(id string) incoming {
		return incoming{Interaction: &discordgo.Interaction{Type: discordgo.InteractionMessageComponent, Data: discordgo.MessageComponentInteractionData{CustomID: id}}}
	}
	for _, tt := range []struct {
		name string
		in   incoming
		want bool
	}{
		{"/song", command("song"), true},
		{"/songs", command("songs"), true},
		{"/other", command("other"), false},
		{"Regenerate", button(regenPrefix + "123"), true},
		{"foreign button", button("other:1"), false},
	} {
		if got := b.handlers.route(tt.in) != nil; got != tt.want {
			t.Errorf("route(%s) found a handler = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestRegisterCommandsOnlyWhenChanged(t *testing.T) {
	t.Parallel()
	b := newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{}, fakeWhisul{})
	cmds := b.handlers.definitions()
	hash, err := commandsHash(cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		stored string
		listed []*discordgo.ApplicationCommand
		want   []string
	}{
		{"first start", "", nil, []string{"set commands"}},
		{"unchanged and listed", hash, cmds, []string{"list commands"}},
		{"unchanged but deleted by hand", hash, cmds[:1], []string{"list commands", "set commands"}},
		{"changed", "old", cmds, []string{"set commands"}},
	} {
		d := &fakeDiscord{CommandsFn: func(string, string) ([]*discordgo.ApplicationCommand, error) { return tt.listed, nil }}
		var set []string
		meta := fakeMeta{
			MetaFn:    func(key string) (string, error) { return tt.stored, nil },
			SetMetaFn: func(key, value string) error { set = append(set, key+"="+value); return nil },
		}
		if err := registerCommands(t.Context(), d, meta, b.log, "app1", "g1", cmds); err != nil {
			t.Fatalf("%s: registerCommands() = %v", tt.name, err)
		}
		if got := d.Calls(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: registerCommands() made Discord calls %v; want %v", tt.name, got, tt.want)
		}
		wrote := slices.Contains(tt.want, "set commands")
		if wrote != (len(set) == 1 && set[0] == "commands:app1:g1="+hash) {
			t.Errorf("%s: SetMeta calls %v; want the new hash stored only after registering", tt.name, set)
		}
	}
}

// TestChangedTranslationRegistersOnce follows a release that changes one
// translation, of /songadmin limits' reset option deep in the definitions:
// the hash changes, so the first start registers the commands and the
// next ones do not.
func TestChangedTranslationRegistersOnce(t *testing.T) {
	t.Parallel()
	b := newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{}, fakeWhisul{})
	before, after := b.handlers.definitions(), newTestBot(t, Options{}, &fakeDiscord{}, fakeStore{}, fakeWhisul{}).handlers.definitions()
	reset := option(t, after, "songadmin", "limits", "reset")
	reset.DescriptionLocalizations[discordgo.German] += " (neu)"
	if option(t, before, "songadmin", "limits", "reset").DescriptionLocalizations[discordgo.German] == reset.DescriptionLocalizations[discordgo.German] {
		t.Fatal("the two bots share their definitions; the test changes both")
	}
	old, _ := commandsHash(before)
	changed, _ := commandsHash(after)
	if old == changed {
		t.Fatalf("commandsHash is %s before and after a changed translation; want a new hash", old)
	}

	stored := map[string]string{"commands:app1:": old} // what the last release registered
	meta := fakeMeta{
		MetaFn:    func(key string) (string, error) { return stored[key], nil },
		SetMetaFn: func(key, value string) error { stored[key] = value; return nil },
	}
	listed := before
	d := &fakeDiscord{
		CommandsFn:    func(string, string) ([]*discordgo.ApplicationCommand, error) { return listed, nil },
		SetCommandsFn: func(_, _ string, cmds []*discordgo.ApplicationCommand) error { listed = cmds; return nil },
	}
	for range 3 { // three starts of the new release
		if err := registerCommands(t.Context(), d, meta, b.log, "app1", "", after); err != nil {
			t.Fatalf("registerCommands() = %v", err)
		}
	}
	sets := 0
	for _, c := range d.Calls() {
		if c == "set commands" {
			sets++
		}
	}
	if sets != 1 || stored["commands:app1:"] != changed {
		t.Errorf("Discord calls %v over three starts, stored hash %s; want one set commands and the new hash %s", d.Calls(), stored["commands:app1:"], changed)
	}
}

// option finds a command's option by its path of names.
func option(t *testing.T, cmds []*discordgo.ApplicationCommand, command string, path ...string) *discordgo.ApplicationCommandOption {
	t.Helper()
	i := slices.IndexFunc(cmds, func(c *discordgo.ApplicationCommand) bool { return c.Name == command })
	if i < 0 {
		t.Fatalf("no /%s", command)
	}
	opts := cmds[i].Options
	var o *discordgo.ApplicationCommandOption
	for _, name := range path {
		j := slices.IndexFunc(opts, func(o *discordgo.ApplicationCommandOption) bool { return o.Name == name })
		if j < 0 {
			t.Fatalf("/%s has no option %v", command, path)
		}
		o, opts = opts[j], opts[j].Options
	}
	return o
}
