package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// TestSummaryOfARealRun runs `go test -json` on a package written for the
// test, with a passing, a failing and two skipped tests, and reads it.
func TestSummaryOfARealRun(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/berth/demo\n\ngo 1.26\n"), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(`package demo

import "testing"

func TestPass(t *testing.T) { t.Log("quiet") }
func TestFail(t *testing.T) { t.Error("it broke") }
func TestNeedsRedis(t *testing.T) { t.Skip("needs redis-server: run hack/bench/setup.sh") }
func TestNeedsRoot(t *testing.T) {
	t.Run("a", func(t *testing.T) { t.Skipf("needs root") })
	t.Run("b", func(t *testing.T) { t.Skipf("needs root") })
}
`), 0o600)).To(Succeed())
	cmd := exec.Command("go", "test", "-json", "-count=1", ".")
	cmd.Dir = dir
	raw, _ := cmd.Output() // exits 1: TestFail fails
	s := newSummary()
	out := &bytes.Buffer{}
	g.Expect(s.read(bytes.NewReader(raw), out)).To(Succeed())
	g.Expect(s.failed).To(BeTrue())
	g.Expect(out.String()).To(ContainSubstring("it broke"))
	g.Expect(out.String()).NotTo(ContainSubstring("quiet"), "passing tests stay quiet, as without -v")
	g.Expect(out.String()).To(ContainSubstring("FAIL"))
	line := s.skippedLine()
	g.Expect(line).NotTo(ContainSubstring("\n"))
	g.Expect(line).To(HavePrefix("Skipped (2 passed, 1 failed, 3 skipped): "))
	g.Expect(line).To(ContainSubstring("demo.TestNeedsRedis (needs redis-server: run hack/bench/setup.sh)"))
	g.Expect(line).To(ContainSubstring("demo.TestNeedsRoot (needs root)"))
	g.Expect(strings.Count(line, "TestNeedsRoot")).To(Equal(1), "subtests fold into their test")
}

func TestNothingSkipped(t *testing.T) {
	g := NewWithT(t)
	s := newSummary()
	g.Expect(s.read(strings.NewReader(`{"Action":"pass","Package":"p","Test":"TestA"}`+"\n"+`not json`+"\n"), &bytes.Buffer{})).To(Succeed())
	g.Expect(s.skippedLine()).To(Equal("Skipped: none (1 passed, 0 failed, 0 skipped)"))
}
