package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var env *Env

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "e2e: "+format+"\n", args...) }
	p, err := ProviderFromEnv(logf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	env, err = p.Up(ctx)
	defer func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer dcancel()
		if err := p.Down(dctx); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: tearing down:", err)
		}
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: bringing the environment up:", err)
		if kp, ok := p.(*KwokProvider); ok {
			dumpLogs(kp.LogDir())
		}
		return 1
	}
	logf("%s environment up in %s", p.Name(), time.Since(start).Round(time.Second))
	code := m.Run()
	if code != 0 {
		if kp, ok := p.(*KwokProvider); ok {
			dumpLogs(kp.LogDir())
		}
	}
	return code
}

// dumpLogs prints the tail of every component log (never the kubeconfigs
// beside them), for failed CI runs.
func dumpLogs(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".log") {
			continue
		}
		b, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil || len(b) == 0 {
			continue
		}
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		fmt.Fprintf(os.Stderr, "----- %s (tail) -----\n%s\n", e.Name(), b)
	}
}
