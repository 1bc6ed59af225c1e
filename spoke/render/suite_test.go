package render

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/berth-io/berth/e2e/framework"
)

// env is the envtest apiserver shared by the package's integration tests;
// nil with -short.
var env *framework.Envtest

// consumerNamespaces are the app namespaces the tests bind into.
var consumerNamespacesForTests = []string{"shop", "billing"}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

// run starts envtest with berth's CRDs, installs the operator and Cilium CRDs
// from e2e/framework/operators/crds (InstallCRDs waits until they are established) and the
// consumer namespaces, then runs the tests.
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
	crds, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(framework.RepoRoot(), "e2e", "framework", "operators", "crds")},
		ErrorIfPathMissing: true,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "Installing the test CRDs: %v\n", err)
		return 1
	}
	if len(crds) != 4 {
		fmt.Fprintf(os.Stderr, "Installed %d test CRDs, want 4\n", len(crds))
		return 1
	}
	for _, ns := range consumerNamespacesForTests {
		if err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			fmt.Fprintf(os.Stderr, "Creating namespace %s: %v\n", ns, err)
			return 1
		}
	}
	return m.Run()
}

// needEnvtest skips a test under -short.
func needEnvtest(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip("envtest is not started with -short")
	}
}
