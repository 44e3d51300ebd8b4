package whisultest

import (
	"net/http"
	"strings"
	"testing"
)

func TestSetFaultsAnswersSomeRequestsWithErrors(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	id := submit(t, s, "x")
	s.SetFaults(Faults{ServerError: 0.2, RateLimited: 0.1, Seed: 7})
	const n = 400
	got := map[int]int{}
	for range n {
		code, ra, _ := call(t, "GET", s.URL+"/jobs/"+id, testKey, "")
		got[code]++
		if code == http.StatusTooManyRequests && ra != "1" {
			t.Errorf("GET /jobs/%s = 429 with Retry-After %q; want 1", id, ra)
		}
	}
	// Binomial(400, 0.2) and (400, 0.1) stay this close to 80 and 40 but
	// for a chance far below one in a million.
	if got[500] < 40 || got[500] > 120 || got[429] < 15 || got[429] > 70 || got[200]+got[500]+got[429] != n {
		t.Errorf("%d polls under SetFaults(20%% 500, 10%% 429) answered %v; want about 80 500s, 40 429s, the rest 200", n, got)
	}
	if polls := s.Jobs()[0].Polls; polls != got[200] {
		t.Errorf("Jobs()[0].Polls = %d; want %d: a faulted poll is not served", polls, got[200])
	}
	if code, _, _ := call(t, "GET", strings.TrimSuffix(s.URL, "/api")+"/cdn/audio/a.mp3", "", ""); code != http.StatusOK {
		t.Errorf("GET /cdn/audio/a.mp3 under faults = %d; want 200: media never fail", code)
	}
	s.SetFaults(Faults{})
	for range 20 {
		if code, _, _ := call(t, "GET", s.URL+"/jobs/"+id, testKey, ""); code != http.StatusOK {
			t.Fatalf("GET after SetFaults(Faults{}) = %d; want 200", code)
		}
	}
}

func TestSetFaultsCreatesNoJobForAFaultedSubmission(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	s.SetFaults(Faults{ServerError: 1})
	if code, _, _ := call(t, "POST", s.URL+"/generate", testKey, `{"prompt":"p"}`); code != http.StatusInternalServerError {
		t.Fatalf("POST /generate under SetFaults(100%% 500) = %d; want 500", code)
	}
	if jobs := s.Jobs(); len(jobs) != 0 {
		t.Errorf("Jobs() = %v; want none after a faulted submission", jobs)
	}
}

func TestAddKeyAcceptsAnotherKey(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	s.AddKey("second-key")
	for _, c := range []struct {
		key  string
		want int
	}{{testKey, 202}, {"second-key", 202}, {"third-key", 401}} {
		if code, _, _ := call(t, "POST", s.URL+"/generate", c.key, `{"prompt":"p"}`); code != c.want {
			t.Errorf("POST /generate with key %q = %d; want %d", c.key, code, c.want)
		}
	}
	reqs := s.Requests()
	if got := reqs[1].Header.Get("Authorization"); got != "Bearer second-key" {
		t.Errorf("Requests()[1] Authorization = %q; want the second key, to tell clients apart", got)
	}
}

func TestRequestsRecordStatusAndEnd(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	s.SetDefault(Script{Polls: 1})
	id := submit(t, s, "x")
	call(t, "GET", s.URL+"/jobs/"+id, testKey, "")
	if !s.Jobs()[0].EndedAt.IsZero() {
		t.Errorf("Jobs()[0].EndedAt = %v after a running poll; want zero", s.Jobs()[0].EndedAt)
	}
	call(t, "GET", s.URL+"/jobs/"+id, testKey, "")
	call(t, "GET", s.URL+"/jobs/nope", testKey, "")
	reqs := s.Requests()
	for i, want := range []int{202, 200, 200, 404} {
		if reqs[i].Status != want || reqs[i].Done.Before(reqs[i].Time) {
			t.Errorf("Requests()[%d] = status %d, done %v (arrived %v); want %d, done after arrival", i, reqs[i].Status, reqs[i].Done, reqs[i].Time, want)
		}
	}
	j := s.Jobs()[0]
	if j.EndedAt.Before(reqs[2].Time) || j.EndedAt.After(reqs[2].Done) {
		t.Errorf("Jobs()[0].EndedAt = %v; want during the completing poll [%v, %v]", j.EndedAt, reqs[2].Time, reqs[2].Done)
	}
}

func TestRequestsSince(t *testing.T) {
	t.Parallel()
	s := NewServer(t, testKey)
	for _, p := range []string{"a", "b", "c"} {
		submit(t, s, p)
	}
	for _, c := range []struct{ from, want int }{{0, 3}, {2, 1}, {3, 0}, {9, 0}} {
		got := s.RequestsSince(c.from)
		if len(got) != c.want {
			t.Errorf("RequestsSince(%d) = %d requests; want %d", c.from, len(got), c.want)
		}
		if c.want == 1 && string(got[0].Body) != `{"prompt":"c"}` {
			t.Errorf("RequestsSince(2)[0].Body = %s; want the third submission", got[0].Body)
		}
	}
}
