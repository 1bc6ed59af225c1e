package propagation_test

import (
	"context"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/berth-io/berth/controllers/propagation"
	"github.com/berth-io/berth/e2e/framework"
)

var k8sClient client.Client

func TestMain(m *testing.M) {
	os.Exit(framework.RunSuite(m, framework.Suite{
		Setup: func(_ context.Context, env *framework.Envtest, mgr ctrl.Manager) error {
			k8sClient = env.Client
			r := &propagation.Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("propagation")}
			return r.SetupWithManager(mgr)
		},
	}))
}
