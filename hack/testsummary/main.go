// Command testsummary reads `go test -json` on stdin and prints what
// `go test` prints without -v (each package's ok/FAIL line and the output
// of failed tests), then ends with one line that lists the skipped tests,
// why each was skipped, and so how to enable them. `make test` pipes into
// it. It exits 1 when a test or a build failed.
package main

import (
	"fmt"
	"os"
)

func main() {
	s := newSummary()
	if err := s.read(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stdout, s.skippedLine())
	if s.failed {
		os.Exit(1)
	}
}
