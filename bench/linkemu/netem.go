package linkemu

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// NetemAvailable reports whether `tc qdisc add ... netem` works on this
// kernel, by trying it on a veth inside the namespace nsName (which must
// exist and be disposable: the test interface is removed again).
func NetemAvailable(ctx context.Context, nsName string) bool {
	if _, err := exec.LookPath("tc"); err != nil {
		return false
	}
	if exec.CommandContext(ctx, "ip", "-n", nsName, "link", "add", "netemtest0", "type", "veth", "peer", "name", "netemtest1").Run() != nil {
		return false
	}
	defer func() { _ = exec.CommandContext(ctx, "ip", "-n", nsName, "link", "del", "netemtest0").Run() }()
	return exec.CommandContext(ctx, "ip", "netns", "exec", nsName, "tc", "qdisc", "add", "dev", "netemtest0", "root", "netem", "delay", "1ms").Run() == nil
}

// ApplyNetem delays egress of ifname in namespace nsName by the profile.
// Applied to both interfaces of a routing namespace, each direction gets the
// one-way delay.
func ApplyNetem(ctx context.Context, nsName, ifname string, p Profile) error {
	args := []string{"netns", "exec", nsName, "tc", "qdisc", "replace", "dev", ifname, "root", "netem",
		"delay", usec(p.OneWay.Microseconds())}
	if p.Jitter > 0 {
		args = append(args, usec(p.Jitter.Microseconds()), "distribution", "normal")
	}
	cmd := exec.CommandContext(ctx, "ip", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func usec(v int64) string { return strconv.FormatInt(v, 10) + "us" }
