package whisul

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestLogsNeverShowTheKey(t *testing.T) {
	t.Parallel()
	base, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"completed","prompt":"p","result":{"title":"t","bpm":1,"duration":"%[1]s",
			"song_url":"https://cdn.example/a.mp3","image_url":"ftp://x/%[1]s","tags":"a"},"error":null,
			"started_at":"%[1]s","finished_at":null}`, key)
	})
	log, buf := newTestLogger()
	c := newClient(t, Options{BaseURL: base, APIKey: key, Logger: log})
	if _, err := c.Job(t.Context(), "job-1", ""); err != nil {
		t.Fatalf("Job() = %v", err)
	}
	c.log.Warn("echo "+key, "err", errors.New("wrapped "+key), "nested", []string{key})
	out := buf.String()
	if !strings.Contains(out, "image_url") || !strings.Contains(out, "[redacted]") {
		t.Fatalf("log = %q; want the odd fields logged, redacted", out)
	}
	if strings.Contains(out, key) || strings.Contains(out, key[:10]) {
		t.Errorf("log contains the API key: %q", out)
	}
}
