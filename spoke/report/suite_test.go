package report

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/berth-io/berth/e2e/framework"
)

// env is the envtest apiserver shared by the package's integration tests;
// nil with -short.
var env *framework.Envtest

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

// run starts envtest, with berth's CRDs, unless -short, then runs the tests.
func run(m *testing.M) int {
	if testing.Short() {
		return m.Run()
	}
	var err error
	env, err = framework.StartEnvtest()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Starting envtest: %v\n", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "Stopping envtest: %v\n", err)
		}
	}()
	return m.Run()
}

// needEnvtest skips a test under -short.
func needEnvtest(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip("envtest is not started with -short")
	}
}
