package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// skip is one skipped test and its reason, the message of t.Skip.
type skip struct {
	pkg, test, reason string
}

// summary folds the events of a run.
type summary struct {
	// output of each running test, by package and test, printed if it fails.
	output map[[2]string][]string
	// pkgOutput is the package-level output (build errors, TestMain).
	pkgOutput map[string][]string
	skips     []skip
	passed    int
	failedN   int
	failed    bool
}

func newSummary() *summary {
	return &summary{output: map[[2]string][]string{}, pkgOutput: map[string][]string{}}
}

// read consumes the event stream, printing to out as go test would.
// Lines that are not JSON (build output) pass through.
func (s *summary) read(in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			_, _ = fmt.Fprintf(out, "%s\n", line)
			continue
		}
		s.handle(e, out)
	}
	return sc.Err()
}

func (s *summary) handle(e event, out io.Writer) {
	key := [2]string{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		// Compiler errors (go 1.24+ reports them as events too).
		_, _ = io.WriteString(out, e.Output)
	case "output":
		if e.Test == "" {
			s.pkgOutput[e.Package] = append(s.pkgOutput[e.Package], e.Output)
		} else {
			s.output[key] = append(s.output[key], e.Output)
		}
	case "pass", "fail", "skip":
		if e.Test == "" {
			s.packageDone(e, out)
			return
		}
		switch e.Action {
		case "pass":
			s.passed++
		case "fail":
			s.failedN++
			s.failed = true
			for _, l := range s.output[key] {
				_, _ = io.WriteString(out, l)
			}
		case "skip":
			s.skips = append(s.skips, skip{pkg: e.Package, test: e.Test, reason: skipReason(s.output[key])})
		}
		delete(s.output, key)
	}
}

// packageDone prints the package's closing line, with its output when it
// failed (a build error, a panic, TestMain).
func (s *summary) packageDone(e event, out io.Writer) {
	lines := s.pkgOutput[e.Package]
	delete(s.pkgOutput, e.Package)
	if e.Action == "fail" {
		s.failed = true
		for _, l := range lines {
			_, _ = io.WriteString(out, l)
		}
		return
	}
	// The last line is go test's own "ok  pkg 1.2s" or "?  pkg [no test files]".
	for i := len(lines) - 1; i >= 0; i-- {
		if l := lines[i]; strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "?") {
			_, _ = io.WriteString(out, l)
			return
		}
	}
}

// skipReason is the message of t.Skip in a test's output: its log lines
// ("file.go:12: message"), without the file:line prefix.
func skipReason(lines []string) string {
	var reason []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		if loc, msg, ok := strings.Cut(t, ": "); ok && strings.Contains(loc, ".go:") {
			t = msg
		}
		reason = append(reason, t)
	}
	if len(reason) == 0 {
		return "no reason given"
	}
	return strings.Join(reason, " ")
}

// skippedLine is one line: the skipped tests grouped by reason, each group
// naming its tests (subtests folded into their parent).
func (s *summary) skippedLine() string {
	counts := fmt.Sprintf("%d passed, %d failed, %d skipped", s.passed, s.failedN, len(s.skips))
	if len(s.skips) == 0 {
		return "Skipped: none (" + counts + ")"
	}
	byReason := map[string][]string{}
	var reasons []string
	for _, sk := range s.skips {
		name := shortPackage(sk.pkg) + "." + strings.SplitN(sk.test, "/", 2)[0]
		if _, ok := byReason[sk.reason]; !ok {
			reasons = append(reasons, sk.reason)
		}
		if !slices.Contains(byReason[sk.reason], name) {
			byReason[sk.reason] = append(byReason[sk.reason], name)
		}
	}
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		parts = append(parts, strings.Join(byReason[r], ", ")+" ("+r+")")
	}
	return "Skipped (" + counts + "): " + strings.Join(parts, "; ")
}

// shortPackage drops the module path.
func shortPackage(pkg string) string {
	if i := strings.Index(pkg, "/berth/"); i >= 0 {
		return pkg[i+len("/berth/"):]
	}
	return pkg
}
