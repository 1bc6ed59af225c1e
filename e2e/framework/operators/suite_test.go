package operators

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/hack/clustertools"
)

// The package's integration tests share one local-fleet cluster (real
// kube-apiserver, kube-controller-manager and scheduler, kwok nodes) with
// the three operators installed.
var (
	// member is the cluster; nil with -short or without the binaries.
	member *framework.Cluster
	// admin is a cluster-admin client of member.
	admin client.Client
	// skipReason says why member is nil.
	skipReason = "the local fleet is not started with -short"
)

// priorityClass is the PriorityClass berth's spoke renders into pods
// (spoke/render PriorityClassName).
const priorityClass = "berth-managed-service"

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

// run starts a one-cluster fleet, plays its storage driver, installs the
// operators, runs the tests and removes the fleet.
func run(m *testing.M) int {
	if testing.Short() {
		return m.Run()
	}
	level := zapcore.ErrorLevel
	if os.Getenv("BERTH_TEST_VERBOSE") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(level)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	f, err := framework.StartFleet(ctx, framework.FleetSpec{
		Name:     fmt.Sprintf("operators-%d", os.Getpid()),
		Clusters: []framework.ClusterSpec{{Name: "member", NodePools: []framework.NodePool{framework.GeneralPool(2)}}},
	})
	if errors.Is(err, clustertools.ErrToolsMissing) {
		skipReason = "the cluster binaries are missing: " + err.Error()
		return m.Run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Starting the local fleet:", err)
		return 1
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer scancel()
		if err := f.Stop(sctx); err != nil {
			fmt.Fprintln(os.Stderr, "Stopping the local fleet:", err)
		}
	}()
	member = f.Clusters[0]
	if admin, err = member.Client(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		if err := framework.ProvisionVolumes(ctx, admin, 500*time.Millisecond); err != nil {
			fmt.Fprintln(os.Stderr, "Volume provisioner:", err)
		}
	}()
	if err := admin.Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: priorityClass}, Value: 1000}); err != nil {
		fmt.Fprintln(os.Stderr, "Creating the priority class:", err)
		return 1
	}
	if err := Install(ctx, admin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "Cluster up and operators installed in %s\n", time.Since(start).Round(100*time.Millisecond))
	return m.Run()
}

// needCluster skips a test that needs the cluster when it is not running.
func needCluster(t *testing.T) {
	t.Helper()
	if member == nil {
		t.Skip("needs the local fleet: " + skipReason)
	}
}

// testNamespace creates a namespace for one test and starts the emulator
// of op scoped to it; both go away when the test ends.
func testNamespace(t *testing.T, name string, opts Options) string {
	t.Helper()
	g := NewWithT(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	g.Expect(admin.Create(t.Context(), ns)).To(Succeed())
	opts.Namespace = name
	stop := Start(context.Background(), member.Config, opts)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Emulators of %s: %v", name, err)
		}
		_ = admin.Delete(context.Background(), ns)
	})
	return name
}

// waitTimeout bounds every Eventually: pods start in a few seconds on kwok,
// but the machine running the tests is small and shared.
const waitTimeout = 90 * time.Second
