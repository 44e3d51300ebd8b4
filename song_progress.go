package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress shows the wait on the operator's terminal or log.
type progress struct {
	w        io.Writer
	terminal bool
	jobID    string
	start    time.Time

	state     string // last status, or a note about a failed poll
	printedAt time.Time
	frame     int
	width     int // of the line drawn on the terminal, to erase it
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) submitted(every time.Duration) {
	p.state = "running"
	// A line of its own even on a terminal, so the job id stays on screen.
	fmt.Fprintf(p.w, "submitted job %s; polling every %v (Ctrl-C stops waiting)\n", p.jobID, every)
	p.printedAt = time.Now()
	p.draw()
}

// status records a poll's status and shows it when it changed (or, on a
// plain writer, when nothing was shown for a while).
func (p *progress) status(s string) {
	changed := s != p.state
	p.state = s
	switch {
	case p.terminal:
		p.draw()
	case changed || time.Since(p.printedAt) >= plainEvery:
		fmt.Fprintf(p.w, "[%s] %s\n", elapsed(time.Since(p.start)), s)
		p.printedAt = time.Now()
	}
}

// note shows a passing problem, such as a failed poll.
func (p *progress) note(s string) {
	if p.terminal {
		p.clear()
	}
	fmt.Fprintf(p.w, "[%s] %s\n", elapsed(time.Since(p.start)), s)
	p.printedAt = time.Now()
	p.draw()
}

// draw redraws the terminal line: spinner, status, elapsed time.
func (p *progress) draw() {
	if !p.terminal {
		return
	}
	line := fmt.Sprintf("%s %s %s", spinner[p.frame%len(spinner)], p.state, elapsed(time.Since(p.start)))
	p.frame++
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.width = len(line)
}

// clear erases the terminal line, before the result or an error.
func (p *progress) clear() {
	if !p.terminal || p.width == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	p.width = 0
}

// elapsed is m:ss, or h:mm:ss past an hour.
func elapsed(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
