package bot

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// BenchmarkGatewayDecode is what discordgo's read loop does with each
// INTERACTION_CREATE before any handler sees it (wsapi.go, onEvent):
// decode the gateway frame into an Event, copy its data for a debug log
// line, then decode the data into an InteractionCreate. One gateway
// session reads its frames one at a time, so a burst of commands on one
// shard waits for this, one after another: 200 of them cost 200 times a
// run of this benchmark before the last one reaches the bot.
func BenchmarkGatewayDecode(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("discordtest", "testdata", "interaction_guild.json"))
	if err != nil {
		b.Fatal(err)
	}
	frame, err := json.Marshal(map[string]any{"op": 0, "s": 42, "t": "INTERACTION_CREATE", "d": json.RawMessage(data)})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		var e *discordgo.Event
		if err := json.NewDecoder(bytes.NewBuffer(frame)).Decode(&e); err != nil {
			b.Fatal(err)
		}
		_ = string(e.RawData) // discordgo formats it for LogDebug whatever the level
		var ic discordgo.InteractionCreate
		if err := json.Unmarshal(e.RawData, &ic); err != nil {
			b.Fatal(err)
		}
		if ic.ID == "" {
			b.Fatal("decoded an interaction without an id")
		}
	}
}

// BenchmarkVerifyRequest is the signature check every request to the
// interactions endpoint passes before anything else (Ed25519 over the
// timestamp and body): CPU that a burst of 200 signed requests spends
// 200 times, whatever else the bot does.
func BenchmarkVerifyRequest(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("discordtest", "testdata", "interaction_guild.json"))
	if err != nil {
		b.Fatal(err)
	}
	pub := testKey.Public().(ed25519.PublicKey)
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := hex.EncodeToString(ed25519.Sign(testKey, append([]byte(ts), body...)))
	for b.Loop() {
		if !validSignature(pub, sig, ts, body, now) {
			b.Fatal("a good signature was refused")
		}
	}
}
