package inventory

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework/operators"
)

// publications records what a Collector publishes.
type publications struct {
	mu    sync.Mutex
	snaps []Snapshot
}

func (p *publications) add(s Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.snaps = append(p.snaps, s)
}

func (p *publications) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.snaps)
}

// restrictedConfig is a user holding exactly the Collector's rules.
func restrictedConfig(ctx context.Context, g Gomega, name string) *rest.Config {
	c := env.Client
	g.Expect(c.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: PolicyRules()})).To(Succeed())
	g.Expect(c.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}},
	})).To(Succeed())
	g.Expect(client.IgnoreAlreadyExists(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: DefaultCiliumNamespace}}))).To(Succeed())
	g.Expect(c.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: DefaultCiliumNamespace, Name: name}, Rules: NamespacedPolicyRules()})).To(Succeed())
	g.Expect(c.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: DefaultCiliumNamespace, Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}},
	})).To(Succeed())
	cfg, err := env.AddUser(name)
	g.Expect(err).NotTo(HaveOccurred())
	return cfg
}

// TestCollectorFindsOperatorNamespaces installs the three operators as their
// manifests do (e2e/framework/operators.Install: CRD, namespace,
// ServiceAccount, ClusterRole, ClusterRoleBinding, Deployment) next to
// look-alikes that are no operators, and runs a Collector with exactly its
// RBAC: it finds each operator's namespace, follows a removed operator, and
// ignores Deployment status churn.
func TestCollectorFindsOperatorNamespaces(t *testing.T) {
	needEnvtest(t)
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := env.Client

	// Look-alikes: a controller bound to a wildcard admin role, and a CI
	// account bound to an aggregated role that lists acid.zalan.do.
	g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ci"}})).To(Succeed())
	g.Expect(c.Create(ctx, clusterRole("test-wildcard-admin", rule([]string{"*"}, []string{"*"}, []string{"*"})))).To(Succeed())
	aggregated := clusterRole("test-edit", rule([]string{"acid.zalan.do"}, []string{"postgresqls"}, []string{"create", "update", "patch"}))
	aggregated.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"test-aggregate-to-edit": "true"}}}}
	g.Expect(c.Create(ctx, aggregated)).To(Succeed())
	g.Expect(c.Create(ctx, bindSA("test-wildcard-admin", "test-wildcard-admin", [2]string{"ci", "runner"}))).To(Succeed())
	g.Expect(c.Create(ctx, bindSA("test-edit", "test-edit", [2]string{"ci", "deployer"}))).To(Succeed())
	for _, sa := range []string{"runner", "deployer"} {
		d := deploymentAs("ci", sa, sa)
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": sa}}
		d.Spec.Template.Labels = map[string]string{"app": sa}
		g.Expect(c.Create(ctx, d)).To(Succeed())
	}

	pubs := &publications{}
	col, err := NewCollector(restrictedConfig(ctx, g, "inventory-collector"), CollectorOptions{MinInterval: 200 * time.Millisecond, Publish: pubs.add})
	g.Expect(err).NotTo(HaveOccurred())
	done := make(chan error, 1)
	go func() { done <- col.Start(ctx) }()
	defer func() {
		cancel()
		g.Expect(<-done).To(Succeed())
	}()

	g.Eventually(pubs.count).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 1))
	g.Expect(col.OperatorNamespaces()).To(BeEmpty(), "the look-alikes are no operators")

	g.Expect(operators.Install(ctx, c)).To(Succeed())
	want := map[fleetv1alpha1.Operator][]string{}
	for _, op := range operators.All() {
		in, err := operators.InstallationOf(op)
		g.Expect(err).NotTo(HaveOccurred())
		want[op] = []string{in.Namespace}
	}
	g.Eventually(col.OperatorNamespaces).WithTimeout(30 * time.Second).Should(Equal(want))
	snap, err := col.Snapshot(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(snap.OperatorNamespaces).To(Equal(want))
	g.Expect(snap.Capabilities.Operators).To(ConsistOf(operators.All()))

	// Status churn on an operator's Deployment changes nothing discovery
	// reads: no recomputation, no publication.
	spot, err := operators.InstallationOf(operators.Spotahome)
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func() int64 { n := col.recomputes.Load(); time.Sleep(time.Second); return col.recomputes.Load() - n }).
		WithTimeout(30*time.Second).Should(BeZero(), "the inventory settles")
	before, recomputes := pubs.count(), col.recomputes.Load()
	dep := &appsv1.Deployment{}
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: spot.Namespace, Name: spot.Deployment}, dep)).To(Succeed())
	for i := int32(1); i <= 3; i++ {
		dep.Status.Replicas, dep.Status.ObservedGeneration = i, int64(i)
		g.Expect(c.Status().Update(ctx, dep)).To(Succeed())
	}
	g.Consistently(pubs.count).WithTimeout(2 * time.Second).Should(Equal(before))
	g.Expect(col.recomputes.Load()).To(Equal(recomputes), "status updates are not even looked at")

	// The Spotahome operator goes away: its namespace is dropped.
	g.Expect(c.Delete(ctx, dep)).To(Succeed())
	delete(want, operators.Spotahome)
	g.Eventually(col.OperatorNamespaces).WithTimeout(30 * time.Second).Should(Equal(want))
}
