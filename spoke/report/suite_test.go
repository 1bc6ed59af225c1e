package report

import (
	"flag"
	"os"
	"testing"

	"github.com/berth-io/berth/e2e/framework"
)

// env is the envtest apiserver shared by the package's integration tests;
// nil with -short.
var env *framework.Envtest

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(framework.RunShortAware(m, &env, nil))
}

// needEnvtest skips a test under -short.
func needEnvtest(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip("envtest is not started with -short")
	}
}
