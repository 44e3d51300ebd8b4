package whisultest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// timeLayout is Whisul's timestamp format, in UTC.
const timeLayout = "2006-01-02 15:04:05"

func (s *Server) generate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.failN > 0 {
		s.failN--
		code, after := s.failCode, s.failAfter
		s.mu.Unlock()
		if after != "" {
			w.Header().Set("Retry-After", after)
		}
		writeStatusError(w, code)
		return
	}
	s.mu.Unlock()

	// Whisul wants a JSON object whose "prompt" is a non-blank string.
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var in struct {
		Prompt json.RawMessage `json:"prompt"`
	}
	var prompt string
	body, _ := io.ReadAll(r.Body)
	if mt != "application/json" || json.Unmarshal(body, &in) != nil ||
		json.Unmarshal(in.Prompt, &prompt) != nil || strings.TrimSpace(prompt) == "" {
		writeStatusError(w, http.StatusBadRequest)
		return
	}

	now := time.Now().UTC()
	j := &job{info: JobInfo{ID: newID(), Prompt: prompt, Status: "running", CreatedAt: now}}
	s.mu.Lock()
	sc, ok := s.prompts[j.info.Prompt]
	if !ok {
		sc = s.def
	}
	j.script = sc
	j.result = s.resultLocked(j)
	s.jobs[j.info.ID] = j
	s.order = append(s.order, j.info.ID)
	s.running++
	s.peak = max(s.peak, s.running)
	s.mu.Unlock()

	writeJSON(w, http.StatusAccepted, map[string]string{
		"message":  "Composition task received.",
		"job_id":   j.info.ID,
		"poll_url": "/jobs/" + j.info.ID,
	})
}

// resultLocked returns the result a job will complete with.
func (s *Server) resultLocked(j *job) WireResult {
	if j.script.Result != nil {
		return *j.script.Result
	}
	root := s.srv.URL
	return WireResult{
		Title:    fmt.Sprintf("Fake Song %d", len(s.order)+1),
		BPM:      120,
		Duration: "2:47",
		SongURL:  root + "/cdn/audio/" + j.info.ID + ".mp3",
		ImageURL: root + "/cdn/covers/" + j.info.ID + ".jpg",
		Tags:     "fake, test, whisul",
	}
}

// wireJob is the documented GET /jobs/{id} body; nil pointers are null.
type wireJob struct {
	Status     string      `json:"status"`
	Prompt     string      `json:"prompt"`
	Result     *WireResult `json:"result"`
	Error      *string     `json:"error"`
	StartedAt  string      `json:"started_at"`
	FinishedAt string      `json:"finished_at,omitempty"`
}

func (s *Server) poll(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	j, ok := s.jobs[id]
	var delay time.Duration
	if ok {
		delay = j.script.Delay
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not found", "Job not found or expired")
		return
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	s.mu.Lock()
	j.info.Polls++
	sc := j.script
	if sc.NotFound {
		s.endLocked(j, "expired")
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not found", "Job not found or expired")
		return
	}
	if j.errorsSent < sc.ServerErrors+sc.RateLimited {
		j.errorsSent++
		rateLimited := j.errorsSent > sc.ServerErrors
		s.mu.Unlock()
		if rateLimited {
			after := sc.RetryAfter
			if after == "" {
				after = "1"
			}
			w.Header().Set("Retry-After", after)
			writeStatusError(w, http.StatusTooManyRequests)
		} else {
			writeStatusError(w, http.StatusInternalServerError)
		}
		return
	}
	if j.info.Status == "running" {
		done := j.runsSent >= sc.Polls
		if sc.After > 0 {
			done = time.Since(j.info.CreatedAt) >= sc.After
		}
		switch {
		case !done:
			j.runsSent++
		case sc.Fail:
			s.endLocked(j, "failed")
		default:
			s.endLocked(j, "completed")
		}
	}
	out := wireJob{
		Status:    j.info.Status,
		Prompt:    j.info.Prompt,
		StartedAt: j.info.CreatedAt.Format(timeLayout),
	}
	if !j.finishedAt.IsZero() {
		out.FinishedAt = j.finishedAt.Format(timeLayout)
	}
	switch out.Status {
	case "completed":
		res := j.result
		out.Result = &res
	case "failed":
		if sc.ErrorText != "" {
			text := sc.ErrorText
			out.Error = &text
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// endLocked moves a job out of the running state, once.
func (s *Server) endLocked(j *job, status string) {
	if j.info.Status != "running" {
		return
	}
	now := time.Now()
	j.info.Status = status
	j.info.EndedAt = now
	j.finishedAt = now.UTC()
	s.running--
}

// media serves the cover or audio of any id, like a CDN: no key needed.
func (s *Server) media(ext string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if !strings.HasSuffix(name, ext) || name == ext {
			http.NotFound(w, r)
			return
		}
		ctype, data := "image/jpeg", coverJPEG
		if ext == ".mp3" {
			s.mu.Lock()
			ctype, data = s.audioType, s.audio
			s.mu.Unlock()
		}
		w.Header().Set("Content-Type", ctype)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	}
}

// writeStatusError answers status with the body Whisul documents for it.
func writeStatusError(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusBadRequest:
		writeError(w, status, "Invalid input", "The 'prompt' field is required and must be a non-empty string.")
	case http.StatusUnauthorized:
		writeError(w, status, "Unauthorized", "Invalid or missing API key")
	case http.StatusNotFound:
		writeError(w, status, "Not found", "Job not found or expired")
	case http.StatusTooManyRequests:
		writeError(w, status, "Too many requests", "Rate limit exceeded, slow down")
	case http.StatusInternalServerError:
		writeError(w, status, "Internal server error", "Something went wrong, try again")
	default:
		writeError(w, status, http.StatusText(status), "Fake error")
	}
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// newID returns a random UUID-like id (version 4 layout).
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
