package agent

import (
	"fmt"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/berth-io/berth/e2e/framework"
)

// hubEnv and memberEnv are two real apiservers: the management cluster
// running the hub, and one member cluster.
var hubEnv, memberEnv *framework.Envtest

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr)))
	var err error
	if hubEnv, err = framework.StartEnvtest(); err != nil {
		fmt.Fprintf(os.Stderr, "starting the hub envtest: %v\n", err)
		os.Exit(1)
	}
	if memberEnv, err = framework.StartEnvtest(); err != nil {
		_ = hubEnv.Stop()
		fmt.Fprintf(os.Stderr, "starting the member envtest: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := memberEnv.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the member envtest: %v\n", err)
	}
	if err := hubEnv.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the hub envtest: %v\n", err)
	}
	os.Exit(code)
}
