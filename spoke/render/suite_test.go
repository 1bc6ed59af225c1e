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
	os.Exit(framework.RunShortAware(m, &env, installTestObjects))
}

// installTestObjects installs the operator and Cilium CRDs from
// e2e/framework/operators/crds (InstallCRDs waits until they are
// established) and the consumer namespaces.
func installTestObjects(env *framework.Envtest) error {
	crds, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(framework.RepoRoot(), "e2e", "framework", "operators", "crds")},
		ErrorIfPathMissing: true,
	})
	if err != nil {
		return fmt.Errorf("installing the test CRDs: %w", err)
	}
	if len(crds) != 4 {
		return fmt.Errorf("installed %d test CRDs, want 4", len(crds))
	}
	for _, ns := range consumerNamespacesForTests {
		if err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	return nil
}

// needEnvtest skips a test under -short.
func needEnvtest(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip("envtest is not started with -short")
	}
}
