package membercluster

import (
	"context"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/berth-io/berth/e2e/framework"
)

// Shared by the tests of this package.
var (
	env      *framework.Envtest
	k8s      client.Client
	registry *prometheus.Registry
	// testGrace is the hub's Lease grace factor in these tests.
	testGrace = 1.5
)

func TestMain(m *testing.M) {
	os.Exit(framework.RunSuite(m, framework.Suite{Setup: setup}))
}

func setup(ctx context.Context, e *framework.Envtest, mgr ctrl.Manager) error {
	env, k8s = e, e.Client
	registry = prometheus.NewRegistry()
	r := &Reconciler{
		Client:           mgr.GetClient(),
		Recorder:         mgr.GetEventRecorder("berth-hub"),
		HubServer:        e.Config.Host,
		HubCAData:        e.Config.CAData,
		LeaseGraceFactor: testGrace,
		Registerer:       registry,
	}
	return r.SetupWithManager(ctx, mgr)
}
