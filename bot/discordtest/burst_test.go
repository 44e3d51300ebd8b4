package discordtest

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func burstCommands(n int) []SongCommand {
	cs := make([]SongCommand, n)
	for i := range cs {
		cs[i] = SongCommand{Prompt: fmt.Sprint("song ", i), UserID: fmt.Sprint(1000 + i)}
	}
	return cs
}

func TestSendCommandsRefusesAHiddenCommand(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	dg, _ := openSession(t, s)
	guildOnly := []discordgo.InteractionContextType{discordgo.InteractionContextGuild}
	cmd := &discordgo.ApplicationCommand{Name: "song", Description: "make a song", Contexts: &guildOnly}
	if _, err := dg.ApplicationCommandBulkOverwrite(s.AppID, "", []*discordgo.ApplicationCommand{cmd}); err != nil {
		t.Fatal(err)
	}
	cs := burstCommands(3)
	cs[2].Where = InDM
	ins, err := s.SendCommands(testContext(t), "song", cs)
	if !errors.Is(err, ErrCommandHidden) || ins != nil {
		t.Fatalf("SendCommands with a DM for a guild-only command = %v, %v; want ErrCommandHidden and nothing sent", ins, err)
	}
}

func TestPostCommandsSignsAndPostsEachOnce(t *testing.T) {
	t.Parallel()
	const n = 20
	s := NewServer(t)
	var mu sync.Mutex
	bodies := map[string]int{} // interaction id -> times posted
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig, _ := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
		if !ed25519.Verify(s.PublicKey, append([]byte(r.Header.Get("X-Signature-Timestamp")), body...), sig) {
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		var in struct{ ID string }
		json.Unmarshal(body, &in)
		mu.Lock()
		bodies[in.ID]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"type":5}`))
	}))
	defer endpoint.Close()
	ins, resps, err := s.PostCommands(testContext(t), endpoint.URL, "song", burstCommands(n))
	if err != nil || len(ins) != n || len(resps) != n {
		t.Fatalf("PostCommands(%d) = %d interactions, %d responses, %v", n, len(ins), len(resps), err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, in := range ins {
		if resps[i].Status != http.StatusOK {
			t.Errorf("POST %d = %d %s; want 200", i, resps[i].Status, resps[i].Body)
		}
		if bodies[in.ID] != 1 {
			t.Errorf("interaction %d was posted %d times; want once", i, bodies[in.ID])
		}
		if _, ok := s.AckLatency(in.ID); !ok {
			t.Errorf("interaction %d: the deferral in the response was not recorded as its callback", i)
		}
	}
}
