package agent

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/probe"
)

// TestAgentSurvivesHubOutage cuts the network between the spoke and the hub
// for several Lease durations: the spoke keeps running, keeps probing and
// watching its own cluster, deletes nothing, and converges once the hub is
// reachable again.
func TestAgentSurvivesHubOutage(t *testing.T) {
	ctx := context.Background()
	g := NewWithT(t)
	m := registerOnHub(ctx, t, hubEnv, "outage")
	mc := memberEnv.Client
	const poolLabel = "outage.test/pool"
	createNode(ctx, t, mc, "outage-1", map[string]string{poolLabel: "o1"}, nil, "2", "4Gi", "10Gi")

	peer, err := probe.Listen("127.0.0.1:0")
	must(t, err)
	peerCtx, stopPeer := context.WithCancel(ctx)
	defer stopPeer()
	go func() { _ = peer.Start(peerCtx) }()
	must(t, hubEnv.Client.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: m.namespace, Name: PeersConfigMap},
		Data:       map[string]string{"peer": peer.Addr().String()},
	}))

	hubURL, err := url.Parse(hubEnv.Config.Host)
	must(t, err)
	link := newProxy(t, hubURL.Host)
	hubRec, memberRec := &recorder{}, &recorder{}
	hubCfg, err := LoadHubConfig(writeHubKubeconfig(t, "", link.URL(), hubEnv, spokeToken(ctx, t, hubEnv, m)), 0)
	must(t, err)
	opts := testOptions("outage", hubRec.wrap(hubCfg), memberRec.wrap(memberSpokeConfig(ctx, t, memberEnv, "outage-spoke")))
	opts.PoolLabels = []string{poolLabel}
	a, err := New(opts)
	must(t, err)
	stopped := runAgent(t, a)

	g.Eventually(func(g Gomega) {
		got := getMember(ctx, g, "outage")
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, fleetv1alpha1.ConditionJoined)).To(BeTrue())
		g.Expect(pool(got, "o1")).NotTo(BeNil())
		g.Expect(pool(got, "o1").NodeCount).To(Equal(int32(1)))
		g.Expect(got.Status.Latencies).To(HaveLen(1))
		getLease(ctx, g, m.namespace)
	}, eventually, 200*time.Millisecond).Should(Succeed())

	// Partition: every connection to the hub is cut, new ones are refused.
	link.Down()
	down := time.Now()
	beforeOutage := getMember(ctx, g, "outage")
	createNode(ctx, t, mc, "outage-2", map[string]string{poolLabel: "o1"}, nil, "2", "4Gi", "10Gi")

	// Three Lease durations without the hub: the spoke keeps running.
	g.Consistently(stopped, 9*time.Second, 500*time.Millisecond).ShouldNot(Receive(), "the spoke must not exit while the hub is away")
	g.Expect(a.LastLeaseRenew()).To(BeTemporally("<", down.Add(time.Second)), "no renewal can have reached the hub")

	var leaseAttempts int
	for _, r := range hubRec.all() {
		if strings.Contains(r.path, "/leases/") && r.err != "" {
			leaseAttempts++
		}
	}
	t.Logf("%d failed Lease renewals during a 9s outage", leaseAttempts)
	g.Expect(leaseAttempts).To(BeNumerically(">", 0), "the spoke must have tried")
	// 100ms doubling to a 1s cap: about a dozen tries in 9s; a retry loop
	// without backoff would make thousands.
	g.Expect(leaseAttempts).To(BeNumerically("<", 40), "retries back off")

	// Nothing on the hub was deleted or cleared while it was unreachable.
	during := getMember(ctx, g, "outage")
	g.Expect(during.Status.NodePools).To(Equal(beforeOutage.Status.NodePools))
	g.Expect(meta.IsStatusConditionTrue(during.Status.Conditions, fleetv1alpha1.ConditionJoined)).To(BeTrue())
	getLease(ctx, g, m.namespace)

	// Reconnect: the Lease is renewed again and the status catches up with
	// what changed in the member cluster meanwhile.
	must(t, link.Up())
	up := time.Now()
	g.Eventually(func(g Gomega) {
		l := getLease(ctx, g, m.namespace)
		g.Expect(l.Spec.RenewTime.Time).To(BeTemporally(">", up))
		o1 := pool(getMember(ctx, g, "outage"), "o1")
		g.Expect(o1).NotTo(BeNil())
		g.Expect(o1.NodeCount).To(Equal(int32(2)))
	}, eventually, 200*time.Millisecond).Should(Succeed())
	t.Logf("converged %s after the hub came back", time.Since(up).Round(100*time.Millisecond))

	for _, r := range append(hubRec.all(), memberRec.all()...) {
		g.Expect(r.method).NotTo(Equal("DELETE"), r.String())
	}
	g.Expect(stopped).NotTo(Receive())
}

// TestAgentFollowsHubTokenRotation revokes the spoke's token while it runs
// and writes a new one into its hub-kubeconfig file, as the hub's refresh
// does: the spoke picks it up without a restart.
func TestAgentFollowsHubTokenRotation(t *testing.T) {
	ctx := context.Background()
	g := NewWithT(t)
	m := registerOnHub(ctx, t, hubEnv, "rotate")
	oldToken := spokeToken(ctx, t, hubEnv, m)
	path := writeHubKubeconfig(t, "", hubEnv.Config.Host, hubEnv, oldToken)
	// A long reload period: the rotation must be noticed from the 401.
	hubCfg, err := LoadHubConfig(path, time.Hour)
	must(t, err)
	opts := testOptions("rotate", hubCfg, memberSpokeConfig(ctx, t, memberEnv, "rotate-spoke"))
	a, err := New(opts)
	must(t, err)
	runAgent(t, a)
	g.Eventually(func(g Gomega) { getLease(ctx, g, m.namespace) }, eventually, 200*time.Millisecond).Should(Succeed())

	// Recreating the ServiceAccount revokes every token bound to the old one.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: m.namespace, Name: "spoke"}}
	must(t, hubEnv.Client.Delete(ctx, sa))
	g.Eventually(func() bool {
		return apierrors.IsNotFound(hubEnv.Client.Get(ctx, client.ObjectKeyFromObject(sa), &corev1.ServiceAccount{}))
	}, eventually).Should(BeTrue())
	must(t, hubEnv.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: m.namespace, Name: "spoke"}}))

	// The old token is really dead, or this test would prove nothing.
	oldCfg := rest.AnonymousClientConfig(hubEnv.Config)
	oldCfg.BearerToken = oldToken
	oldClient, err := client.New(oldCfg, client.Options{Scheme: hubEnv.Scheme})
	must(t, err)
	g.Eventually(func() bool {
		return apierrors.IsUnauthorized(oldClient.Get(ctx, client.ObjectKey{Name: "rotate"}, &fleetv1alpha1.MemberCluster{}))
	}, eventually, 200*time.Millisecond).Should(BeTrue())

	writeHubKubeconfig(t, path, hubEnv.Config.Host, hubEnv, spokeToken(ctx, t, hubEnv, m))
	rotated := time.Now()
	g.Eventually(func(g Gomega) {
		g.Expect(getLease(ctx, g, m.namespace).Spec.RenewTime.Time).To(BeTemporally(">", rotated))
	}, eventually, 200*time.Millisecond).Should(Succeed())
}

// TestAgentStartsWhileHubIsDown starts a spoke that cannot reach the hub,
// whose MemberCluster does not exist yet: it waits, never creates the
// MemberCluster, and joins once both are there.
func TestAgentStartsWhileHubIsDown(t *testing.T) {
	ctx := context.Background()
	g := NewWithT(t)
	m := registerIdentity(ctx, t, hubEnv, "late")
	createNode(ctx, t, memberEnv.Client, "late-1", nil, nil, "1", "1Gi", "1Gi")
	hubURL, err := url.Parse(hubEnv.Config.Host)
	must(t, err)
	link := newProxy(t, hubURL.Host)
	hubCfg, err := LoadHubConfig(writeHubKubeconfig(t, "", link.URL(), hubEnv, spokeToken(ctx, t, hubEnv, m)), 0)
	must(t, err)
	link.Down()

	hubRec := &recorder{}
	a, err := New(testOptions("late", hubRec.wrap(hubCfg), memberSpokeConfig(ctx, t, memberEnv, "late-spoke")))
	must(t, err)
	stopped := runAgent(t, a)
	g.Consistently(stopped, 3*time.Second, 200*time.Millisecond).ShouldNot(Receive(), "the spoke starts without the hub")

	must(t, link.Up())
	// The hub is back but the MemberCluster is not there yet: the Lease
	// appears, the MemberCluster is not created by the spoke.
	g.Eventually(func(g Gomega) { getLease(ctx, g, m.namespace) }, eventually, 200*time.Millisecond).Should(Succeed())
	g.Consistently(func() bool {
		return apierrors.IsNotFound(hubEnv.Client.Get(ctx, client.ObjectKey{Name: "late"}, &fleetv1alpha1.MemberCluster{}))
	}, 2*time.Second, 200*time.Millisecond).Should(BeTrue())

	createHubMember(ctx, t, hubEnv, m)
	g.Eventually(func(g Gomega) {
		got := getMember(ctx, g, "late")
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, fleetv1alpha1.ConditionJoined)).To(BeTrue())
		g.Expect(got.Status.NodePools).NotTo(BeEmpty())
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, fleetv1alpha1.ConditionRegistered)).To(BeTrue())
	}, eventually, 200*time.Millisecond).Should(Succeed())
	for _, r := range hubRec.all() {
		g.Expect(r.method).NotTo(Equal("DELETE"), r.String())
		g.Expect(r.status).NotTo(Equal(403), r.String())
	}
}
