package discordtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

func TestGatewayBotThroughDiscordgo(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.Shards = 4
	s.SessionStartLimit = SessionStartLimit{Total: 1000, Remaining: 7, ResetAfter: 60000, MaxConcurrency: 2}
	gb, err := newSession(t, s, "Bot "+s.Token).GatewayBot()
	want := discordgo.SessionInformation{Total: 1000, Remaining: 7, ResetAfter: 60000, MaxConcurrency: 2}
	if err != nil || gb.Shards != 4 || gb.SessionStartLimit != want || !strings.HasPrefix(gb.URL, "ws://") {
		t.Errorf("GatewayBot() = %+v, %v; want 4 shards and %+v", gb, err, want)
	}
	if _, err := newSession(t, s, "Bot nope").GatewayBot(); err == nil {
		t.Error("GatewayBot() with a wrong token = nil; want 401")
	}
}

func TestIdentifyShardField(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		id, count int
		code      int // 0: READY
	}{
		{"a valid shard", 3, 4, 0},
		{"no shard field", 0, 0, 4011},
		{"the wrong count", 1, 2, 4010},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t)
			s.Shards = 4
			dg := newSession(t, s, "Bot "+s.Token)
			dg.ShardID, dg.ShardCount = tt.id, tt.count
			err := dg.Open()
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("Open() = %v; want READY", err)
				}
				dg.Close()
				if ids := s.Identifies(); len(ids) != 1 || ids[0].Shard != [2]int{3, 4} {
					t.Errorf("Identifies() = %+v; want one with shard [3 4]", ids)
				}
				return
			}
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tt.code {
				t.Fatalf("Open() = %v; want close code %d", err, tt.code)
			}
		})
	}
}

func TestInteractionsGoToTheGuildsShard(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.Shards = 2
	got := make([]chan *discordgo.Interaction, 2)
	for id := range 2 {
		dg := newSession(t, s, "Bot "+s.Token)
		dg.ShardID, dg.ShardCount = id, 2
		got[id] = make(chan *discordgo.Interaction, 16)
		dg.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) { got[id] <- ic.Interaction })
		if err := dg.Open(); err != nil {
			t.Fatalf("Open(shard %d) = %v", id, err)
		}
		t.Cleanup(func() { dg.Close() })
	}
	ctx := testContext(t)
	for _, c := range []SongCommand{
		{Prompt: "one", GuildID: "4194304"},    // 1 << 22: shard 1
		{Prompt: "two", GuildID: "8388608"},    // 2 << 22: shard 0
		{Prompt: "dm", Where: InDM},            // shard 0
		{Prompt: "three", GuildID: "12582912"}, // 3 << 22: shard 1
	} {
		sent, err := s.SendCommand(ctx, "song", c)
		if err != nil {
			t.Fatalf("SendCommand(%q) = %v", c.Prompt, err)
		}
		want := s.ShardOf(c.GuildID)
		if c.Where == InDM {
			want = 0
		}
		if i := receive(ctx, t, got[want]); i.ID != sent.ID {
			t.Errorf("shard %d received %s; want %q's interaction %s", want, i.ID, c.Prompt, sent.ID)
		}
	}
	for id, ch := range got {
		if n := len(ch); n != 0 {
			t.Errorf("shard %d received %d more interactions; want each on its guild's shard only", id, n)
		}
	}
}
