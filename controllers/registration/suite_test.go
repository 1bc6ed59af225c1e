package registration

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
	os.Exit(run(m))
}

func run(m *testing.M) int {
	level := zapcore.ErrorLevel
	if os.Getenv("BERTH_TEST_VERBOSE") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(level)))
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
	ctx, cancel := context.WithCancel(ctrl.SetupSignalHandler())
	defer cancel()
	registry = prometheus.NewRegistry()
	if err := (&Reconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("berth-hub-registration"),
	}).SetupWithManager(ctx, mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := (&membercluster.Reconciler{
		Client:     mgr.GetClient(),
		Recorder:   mgr.GetEventRecorder("berth-hub"),
		HubServer:  env.Config.Host,
		HubCAData:  env.Config.CAData,
		SpokeImage: testSpokeImage,
		Registerer: registry,
	}).SetupWithManager(ctx, mgr); err != nil {
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
