package work_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/spoke/work"
)

// One apiserver plays both the hub (namespace berth-member-w1) and the
// member cluster: the Reconciler reaches them through separate clients, as
// in production.
const (
	member = "w1"
	hubNS  = "berth-member-w1"
)

var k8sClient client.Client

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env, err := framework.StartEnvtest()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	k8sClient = env.Client
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hubNS}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:  env.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   cache.Options{DefaultNamespaces: map[string]cache.Config{hubNS: {}}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	req, _ := labels.NewRequirement(work.MemberCacheLabel, selection.Exists, nil)
	memberCluster, err := cluster.New(env.Config, func(o *cluster.Options) {
		o.Scheme = env.Scheme
		o.Cache.DefaultLabelSelector = labels.NewSelector().Add(*req)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := mgr.Add(memberCluster); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	memberClient, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r := &work.Reconciler{
		Hub: mgr.GetClient(), Member: memberClient, MemberName: member, HubNamespace: hubNS,
		Capabilities: func() fleetv1alpha1.Capabilities { return fleetv1alpha1.Capabilities{} },
		NodeAddress:  "10.0.0.1",
	}
	if err := r.SetupWithManager(mgr, memberCluster); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	return m.Run()
}
