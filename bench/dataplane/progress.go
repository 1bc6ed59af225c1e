package dataplane

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress draws a bar (on a terminal) or prints a line per step (elsewhere).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	total int
	done  int
	start time.Time
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		p.tty = term.IsTerminal(int(f.Fd()))
	}
	return p
}

// note prints a line of its own (a skipped engine, a phase).
func (p *progress) note(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
	if p.tty && p.done > 0 {
		p.draw("")
	}
}

// step records one finished measurement.
func (p *progress) step(label string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if p.tty {
		p.draw(label)
		if p.done == p.total {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] %s (%s)\n", p.done, p.total, label, p.eta())
}

// skip removes steps that will not run.
func (p *progress) skip(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.total -= n
	p.mu.Unlock()
}

func (p *progress) draw(label string) {
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = width * p.done / p.total
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	fmt.Fprintf(p.w, "\r\033[K[%s] %d/%d %s  %s", bar, p.done, p.total, label, p.eta())
}

func (p *progress) eta() string {
	el := time.Since(p.start)
	if p.done == 0 || p.done >= p.total {
		return "elapsed " + el.Round(time.Second).String()
	}
	left := time.Duration(float64(el) / float64(p.done) * float64(p.total-p.done))
	return "eta " + left.Round(time.Second).String()
}
