package placement_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	placementctrl "github.com/berth-io/berth/controllers/placement"
	"github.com/berth-io/berth/controllers/placementpolicy"
	"github.com/berth-io/berth/e2e/framework"
	berthplacement "github.com/berth-io/berth/placement"
)

var (
	env *framework.Envtest
	// k8s is a direct (uncached) client.
	k8s client.Client
)

// refreshInterval is short so that better candidates show up quickly.
const refreshInterval = time.Second

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// Quiet unless BERTH_TEST_VERBOSE is set.
	if os.Getenv("BERTH_TEST_VERBOSE") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
	var err error
	env, err = framework.StartEnvtest()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	k8s = env.Client

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	placer, err := berthplacement.NewPlacer(nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := (&placementctrl.Reconciler{
		Client:          mgr.GetClient(),
		Recorder:        mgr.GetEventRecorder("berth-placement"),
		Placer:          placer,
		RefreshInterval: refreshInterval,
	}).SetupWithManager(mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := (&placementpolicy.Reconciler{Client: mgr.GetClient(), Placer: placer}).SetupWithManager(mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}
