package netlab

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestOwnerGone(t *testing.T) {
	// A pid that has certainly exited: a finished child of this test.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := strconv.Itoa(cmd.Process.Pid)
	live := strconv.Itoa(os.Getpid())
	testCases := []struct {
		name string
		in   string
		want bool
	}{
		{name: "dead owner", in: Prefix + dead + "-wl-app", want: true},
		{name: "dead owner, working directory", in: Prefix + dead + "-123456", want: true},
		{name: "live owner", in: Prefix + live + "-wl-app", want: false},
		{name: "other prefix", in: "cni-" + dead + "-x", want: false},
		{name: "no pid", in: Prefix + "wl-app", want: false},
		{name: "no role", in: Prefix + dead, want: false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(ownerGone(tc.in)).To(Equal(tc.want))
		})
	}
}

// requireRoot skips the test locally and fails it in CI when not root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("netlab tests must run as root in CI (network namespaces)")
	}
	t.Skip("netlab tests need root (network namespaces)")
}

// TestLab builds two namespaces on a bridge, serves in one, dials from the
// other, and checks Close removes everything.
func TestLab(t *testing.T) {
	requireRoot(t)
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lab, err := New(ctx, "")
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = lab.Close() })

	net, err := lab.Namespace(ctx, "net")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(lab.Bridge(ctx, net, "br0")).To(Succeed())
	a, err := lab.Namespace(ctx, "a")
	g.Expect(err).NotTo(HaveOccurred())
	b, err := lab.Namespace(ctx, "b")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(lab.Attach(ctx, a, "eth0", "10.201.99.1/24", net, "br0", "p-a")).To(Succeed())
	g.Expect(lab.Attach(ctx, b, "eth0", "10.201.99.2/24", net, "br0", "p-b")).To(Succeed())

	// A process inside b, to be stopped by Close.
	p, err := lab.Start(b, ProcessSpec{Name: "sleeper", Argv: []string{"sleep", "300"}})
	g.Expect(err).NotTo(HaveOccurred())
	ln, err := b.Listen(ctx, "tcp", "10.201.99.2:7001")
	g.Expect(err).NotTo(HaveOccurred())
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Write([]byte("hello"))
			_ = c.Close()
		}
	}()
	conn, err := a.DialContext(ctx, "tcp", "10.201.99.2:7001")
	g.Expect(err).NotTo(HaveOccurred())
	got, err := io.ReadAll(conn)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(got)).To(Equal("hello"))
	_ = conn.Close()

	g.Expect(lab.Close()).To(Succeed())
	exited, _ := p.Exited()
	g.Expect(exited).To(BeTrue(), "Close must stop the lab's processes")
	for _, ns := range []*NetNS{net, a, b} {
		g.Expect(ns.exists()).To(BeFalse(), "namespace %s must be gone", ns.Name)
	}
	_, err = os.Stat(lab.WorkDir)
	g.Expect(os.IsNotExist(err)).To(BeTrue())
}
