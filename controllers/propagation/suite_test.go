package propagation_test

import (
	"context"
	"os"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/berth-io/berth/controllers/propagation"
	"github.com/berth-io/berth/e2e/framework"
)

// syncPeriod is short so that tests see informer resyncs reach the
// Reconciler (and write nothing).
const syncPeriod = 3 * time.Second

var (
	env        *framework.Envtest
	k8sClient  client.Client
	reconciler *propagation.Reconciler
)

func TestMain(m *testing.M) {
	os.Exit(framework.RunSuite(m, framework.Suite{
		Manager: func(o *ctrl.Options) {
			sp := syncPeriod
			o.Cache.SyncPeriod = &sp
		},
		Setup: func(_ context.Context, e *framework.Envtest, mgr ctrl.Manager) error {
			env, k8sClient = e, e.Client
			reconciler = &propagation.Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("propagation")}
			return reconciler.SetupWithManager(mgr)
		},
	}))
}
