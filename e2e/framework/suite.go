package framework

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Suite describes an envtest-backed test package: RunSuite starts envtest,
// builds a manager, lets Setup add controllers, runs the tests and shuts
// everything down.
type Suite struct {
	// Manager adjusts the manager's options (scheme and a disabled metrics
	// endpoint are set already). Optional.
	Manager func(*ctrl.Options)
	// NewManager builds the manager instead of ctrl.NewManager, e.g. the
	// hub's own. Optional.
	NewManager func(*Envtest) (ctrl.Manager, error)
	// Setup adds the package's controllers to mgr; env is the running
	// envtest. Required.
	Setup func(ctx context.Context, env *Envtest, mgr ctrl.Manager) error
}

// RunSuite runs m inside s and returns the exit code, for TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(framework.RunSuite(m, suite)) }
//
// Controller logs go to stderr at error level, or debug level when
// BERTH_TEST_VERBOSE is set.
func RunSuite(m *testing.M, s Suite) int {
	level := zapcore.ErrorLevel
	if os.Getenv("BERTH_TEST_VERBOSE") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(level)))
	env, err := StartEnvtest()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	var mgr ctrl.Manager
	if s.NewManager != nil {
		mgr, err = s.NewManager(env)
	} else {
		opts := ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}}
		if s.Manager != nil {
			s.Manager(&opts)
		}
		mgr, err = ctrl.NewManager(env.Config, opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating the manager:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Setup(ctx, env, mgr); err != nil {
		fmt.Fprintln(os.Stderr, "setting up the suite:", err)
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
		fmt.Fprintln(os.Stderr, "manager did not stop within 30s")
	}
	return code
}
