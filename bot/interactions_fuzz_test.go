package bot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/songbot-dev/songbot/storage"
	"github.com/songbot-dev/songbot/whisul"
)

// FuzzInteractionCreate feeds raw INTERACTION_CREATE payloads through
// discordgo's decoding (as its gateway does) and the bot's handler, with
// an accepting store and Whisul. Whatever the payload: no panic, a job
// stored only with an id, token and user, and only an answer to an
// interaction with an id and token.
func FuzzInteractionCreate(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("discordtest", "testdata", "*.json"))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		// The template as the fake dispatches it: a /song with a prompt.
		m["id"], m["token"], m["type"], m["application_id"] = "1300000000000000000", "tok", 2, "app"
		m["data"] = map[string]any{"id": "1", "name": "song", "type": 1, "options": []any{map[string]any{"name": "prompt", "type": 3, "value": "lo-fi"}}}
		seed, _ := json.Marshal(m)
		f.Add(seed)
		for _, odd := range []func(map[string]any){
			func(m map[string]any) { delete(m, "member"); delete(m, "user") },
			func(m map[string]any) { delete(m, "data") },
			func(m map[string]any) { m["type"] = 99 },
			func(m map[string]any) { m["data"] = "not an object" },
			func(m map[string]any) {
				m["data"] = map[string]any{"name": "song", "options": []any{map[string]any{"name": "prompt", "type": 3, "value": 5}, map[string]any{"name": "private", "type": 5, "value": "yes"}}}
			},
			func(m map[string]any) {
				m["data"] = map[string]any{"name": "song", "options": []any{map[string]any{"name": "prompt", "type": 3, "value": strings.Repeat("🎵", 20000)}}}
			},
			func(m map[string]any) { m["token"] = strings.Repeat("t", 100000) },
			func(m map[string]any) {
				m["type"] = 3
				m["data"] = map[string]any{"custom_id": "song:v1:x:regen", "component_type": 2}
			},
			func(m map[string]any) { m["attachment_size_limit"] = -5 },
		} {
			var c map[string]any
			json.Unmarshal(seed, &c)
			odd(c)
			b, _ := json.Marshal(c)
			f.Add(b)
		}
	}
	f.Add([]byte(`null`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"1","token":"t","type":2}`))
	f.Add([]byte(`{"id":"1","token":"t","type":3,"user":{"id":"u"}}`))
	f.Add([]byte(`[1,2]`))

	f.Fuzz(func(t *testing.T, raw []byte) {
		d := &fakeDiscord{}
		var stored []storage.Job
		store := fakeStore{
			fakeGate: fakeGate{
				AdmitFn: func(_ time.Time, job storage.Job, _ storage.Limits) (storage.Admission, error) {
					stored = append(stored, job)
					return storage.Admission{}, nil
				},
				AdmitFromSongFn: func(_ time.Time, job storage.Job, _ string, _ storage.Limits) (storage.Admission, error) {
					stored = append(stored, job)
					return storage.Admission{Prompt: "again"}, nil
				},
			},
			fakeQueue: fakeQueue{
				RescheduleManyFn: eachJob(func(storage.Job) error { return nil }),
				FinishFn:         func(string) (bool, error) { return true, nil },
			},
		}
		w := fakeWhisul{GenerateFn: func(string) (whisul.Submission, error) {
			return whisul.Submission{JobID: "w1", PollURL: "/jobs/w1"}, nil
		}}
		b := newTestBot(t, Options{}, d, store, w)
		ic := &discordgo.InteractionCreate{}
		json.Unmarshal(raw, ic) // discordgo logs a decoding error and dispatches what it got
		b.onEvent(nil, &discordgo.Event{Type: "INTERACTION_CREATE", RawData: raw, Struct: ic})
		for _, job := range stored {
			if job.ID == "" || job.InteractionToken == "" || job.UserID == "" {
				t.Errorf("stored a job without an id, token or user: %+v", job.Request)
			}
		}
		if len(d.Responses()) > 0 && (ic.Interaction == nil || ic.ID == "" || ic.Token == "") {
			t.Errorf("answered an interaction without an id or token")
		}
	})
}
