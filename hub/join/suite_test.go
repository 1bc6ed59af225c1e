package join_test

import (
	"context"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/hub"
)

// env is the hub's management cluster; the whole hub (hub.Setup) runs
// against it.
var env *framework.Envtest

func TestMain(m *testing.M) {
	opts := hub.NewOptions()
	opts.MetricsBindAddress = "0"
	opts.HealthProbeBindAddress = "0"
	os.Exit(framework.RunSuite(m, framework.Suite{
		NewManager: func(e *framework.Envtest) (ctrl.Manager, error) {
			opts.RestConfig = e.Config
			return hub.NewManager(opts)
		},
		Setup: func(ctx context.Context, e *framework.Envtest, mgr ctrl.Manager) error {
			env = e
			return hub.Setup(ctx, mgr, opts)
		},
	}))
}
