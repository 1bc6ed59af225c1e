package registration

import (
	"context"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/berth-io/berth/controllers/membercluster"
	"github.com/berth-io/berth/e2e/framework"
)

// testSpokeImage is what the hub installs into members in these tests.
const testSpokeImage = "registry.invalid/berth-spoke:test"

// Shared by the tests of this package. The hub's management cluster is one
// envtest apiserver, and every CAPI "member cluster" is that same apiserver:
// the kubeconfig Secrets point back at it.
var (
	env      *framework.Envtest
	k8s      client.Client
	registry *prometheus.Registry
)

func TestMain(m *testing.M) {
	os.Exit(framework.RunSuite(m, framework.Suite{Setup: setup}))
}

func setup(ctx context.Context, e *framework.Envtest, mgr ctrl.Manager) error {
	env, k8s = e, e.Client
	registry = prometheus.NewRegistry()
	if err := (&Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("berth-hub-registration"),
	}).SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	return (&membercluster.Reconciler{
		Client:     mgr.GetClient(),
		Recorder:   mgr.GetEventRecorder("berth-hub"),
		HubServer:  e.Config.Host,
		HubCAData:  e.Config.CAData,
		SpokeImage: testSpokeImage,
		Registerer: registry,
	}).SetupWithManager(ctx, mgr)
}
