package membercluster

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

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
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
	var err error
	env, err = framework.StartEnvtest()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	k8s = env.Client

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:  env.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	registry = prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(ctrl.SetupSignalHandler())
	defer cancel()
	r := &Reconciler{
		Client:           mgr.GetClient(),
		Recorder:         mgr.GetEventRecorder("berth-hub"),
		HubServer:        env.Config.Host,
		HubCAData:        env.Config.CAData,
		LeaseGraceFactor: testGrace,
		Registerer:       registry,
	}
	if err := r.SetupWithManager(ctx, mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	code := m.Run()
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	return code
}

// zapLevel logs errors only, unless BERTH_TEST_VERBOSE is set.
func zapLevel() zapcore.Level {
	if os.Getenv("BERTH_TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}
