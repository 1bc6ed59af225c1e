package work_test

import (
	"context"
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
	os.Exit(framework.RunSuite(m, framework.Suite{
		// The hub side sees only the member's hub namespace.
		Manager: func(o *ctrl.Options) { o.Cache = cache.Options{DefaultNamespaces: map[string]cache.Config{hubNS: {}}} },
		Setup:   setup,
	}))
}

func setup(ctx context.Context, env *framework.Envtest, mgr ctrl.Manager) error {
	k8sClient = env.Client
	if err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hubNS}}); err != nil {
		return err
	}
	req, err := labels.NewRequirement(work.MemberCacheLabel, selection.Exists, nil)
	if err != nil {
		return err
	}
	memberCluster, err := cluster.New(env.Config, func(o *cluster.Options) {
		o.Scheme = env.Scheme
		o.Cache.DefaultLabelSelector = labels.NewSelector().Add(*req)
	})
	if err != nil {
		return err
	}
	if err := mgr.Add(memberCluster); err != nil {
		return err
	}
	memberClient, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		return err
	}
	r := &work.Reconciler{
		Hub: mgr.GetClient(), Member: memberClient, MemberName: member, HubNamespace: hubNS,
		Capabilities: func() fleetv1alpha1.Capabilities { return fleetv1alpha1.Capabilities{} },
		NodeAddress:  "10.0.0.1",
	}
	return r.SetupWithManager(mgr, memberCluster)
}
