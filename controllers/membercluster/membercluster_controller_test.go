package membercluster

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hub/kubeconfig"
)

func TestRegistersAcceptedMember(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	createMember(t, "reg-a", true)

	m := eventuallyCondition(t, "reg-a", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
	g.Expect(m.Status.Namespace).To(Equal("berth-member-reg-a"))
	g.Expect(m.Status.ObservedGeneration).To(Equal(m.Generation))
	g.Expect(m.Finalizers).To(ContainElement(fleetv1alpha1.FinalizerMember))
	avail := meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionAvailable)
	g.Expect(avail).NotTo(BeNil())
	g.Expect(avail.Status).To(Equal(metav1.ConditionUnknown))
	g.Expect(avail.Reason).To(Equal(fleetv1alpha1.ReasonLeaseMissing))

	ns := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "berth-member-reg-a"}, ns)).To(Succeed())
	g.Expect(ns.Labels).To(HaveKeyWithValue(fleetv1alpha1.LabelMember, "reg-a"))

	role := &rbacv1.Role{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "berth-member-reg-a", Name: SpokeServiceAccount}, role)).To(Succeed())
	g.Expect(role.Rules).To(Equal(SpokeRules()))
	cr := &rbacv1.ClusterRole{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "berth:member:reg-a"}, cr)).To(Succeed())
	g.Expect(cr.Rules).To(Equal(ClusterRules("reg-a")))
	crb := &rbacv1.ClusterRoleBinding{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "berth:member:reg-a"}, crb)).To(Succeed())
	g.Expect(crb.Subjects).To(Equal([]rbacv1.Subject{{Kind: "ServiceAccount", Name: "spoke", Namespace: "berth-member-reg-a"}}))

	// The credentials are a real, bound token of the spoke's ServiceAccount.
	secret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "berth-member-reg-a", Name: HubKubeconfigSecret}, secret)).To(Succeed())
	issued, err := time.Parse(time.RFC3339, secret.Annotations[AnnotationTokenIssued])
	g.Expect(err).NotTo(HaveOccurred())
	expires, err := time.Parse(time.RFC3339, secret.Annotations[AnnotationTokenExpires])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(expires.Sub(issued)).To(BeNumerically("~", DefaultTokenExpiration, 5*time.Second))
	rc, err := kubeconfig.RESTConfig(secret.Data[kubeconfig.SecretKey])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rc.Host).To(Equal(env.Config.Host))
	spoke := spokeClient(t, "reg-a")
	review := &authenticationv1.SelfSubjectReview{}
	g.Expect(spoke.Create(ctx, review)).To(Succeed())
	g.Expect(review.Status.UserInfo.Username).To(Equal("system:serviceaccount:berth-member-reg-a:spoke"))
}

func TestUnacceptedMemberGetsNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	createMember(t, "unaccepted", false)

	m := eventuallyCondition(t, "unaccepted", fleetv1alpha1.ConditionRegistered, metav1.ConditionFalse, fleetv1alpha1.ReasonNotAccepted)
	g.Expect(m.Status.Namespace).To(BeEmpty())
	g.Expect(meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionAvailable)).To(BeNil())
	err := k8s.Get(ctx, client.ObjectKey{Name: "berth-member-unaccepted"}, &corev1.Namespace{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no hub namespace before acceptance, got %v", err)
	err = k8s.Get(ctx, client.ObjectKey{Name: "berth:member:unaccepted"}, &rbacv1.ClusterRole{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no ClusterRole before acceptance, got %v", err)

	before := m.DeepCopy()
	m.Spec.Accepted = true
	g.Expect(k8s.Patch(ctx, m, client.MergeFrom(before))).To(Succeed())
	eventuallyCondition(t, "unaccepted", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
}

func TestCredentialsRefreshedWhenDue(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	createMember(t, "refresh", true)
	eventuallyCondition(t, "refresh", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
	key := client.ObjectKey{Namespace: NamespaceFor("refresh"), Name: HubKubeconfigSecret}
	secret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, key, secret)).To(Succeed())
	oldData := string(secret.Data[kubeconfig.SecretKey])

	// Pretend the token was issued long ago: two thirds of its life passed.
	before := secret.DeepCopy()
	secret.Annotations[AnnotationTokenIssued] = time.Now().Add(-50 * time.Minute).UTC().Format(time.RFC3339)
	secret.Annotations[AnnotationTokenExpires] = time.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339)
	g.Expect(k8s.Patch(ctx, secret, client.MergeFrom(before))).To(Succeed())
	g.Eventually(func(g Gomega) {
		s := &corev1.Secret{}
		g.Expect(k8s.Get(ctx, key, s)).To(Succeed())
		g.Expect(string(s.Data[kubeconfig.SecretKey])).NotTo(Equal(oldData))
		expires, err := time.Parse(time.RFC3339, s.Annotations[AnnotationTokenExpires])
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(time.Until(expires)).To(BeNumerically(">", 50*time.Minute))
	}, timeout, interval).Should(Succeed())

	// A deleted Secret comes back.
	g.Expect(k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}})).To(Succeed())
	g.Eventually(func() error { return k8s.Get(ctx, key, &corev1.Secret{}) }, timeout, interval).Should(Succeed())
}

// applySpokeStatus writes fields the spoke owns, with its field manager.
func applySpokeStatus(g Gomega, c client.Client, member, probeEndpoint string) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": fleetv1alpha1.GroupVersion.String(),
		"kind":       "MemberCluster",
		"metadata":   map[string]any{"name": member},
		"status": map[string]any{
			"probeEndpoint": probeEndpoint,
			"agentVersion":  "test",
		},
	}}
	g.Expect(c.Status().Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner("berth-spoke"), client.ForceOwnership)).To(Succeed())
}

func TestPeersConfigMap(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	for _, n := range []string{"peer-1", "peer-2", "peer-3"} {
		createMember(t, n, true)
	}
	for _, n := range []string{"peer-1", "peer-2", "peer-3"} {
		eventuallyCondition(t, n, fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
	}
	// Each spoke publishes its endpoint with its own identity.
	applySpokeStatus(g, spokeClient(t, "peer-1"), "peer-1", "10.0.0.1:7000")
	applySpokeStatus(g, spokeClient(t, "peer-2"), "peer-2", "10.0.0.2:7000")

	peers := func(member string) func(g Gomega) map[string]string {
		return func(g Gomega) map[string]string {
			cm := &corev1.ConfigMap{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: NamespaceFor(member), Name: PeersConfigMap}, cm)).To(Succeed())
			return cm.Data
		}
	}
	g.Eventually(peers("peer-3"), timeout, interval).Should(And(
		HaveKeyWithValue("peer-1", "10.0.0.1:7000"), HaveKeyWithValue("peer-2", "10.0.0.2:7000"), Not(HaveKey("peer-3"))))
	g.Eventually(peers("peer-1"), timeout, interval).Should(And(HaveKeyWithValue("peer-2", "10.0.0.2:7000"), Not(HaveKey("peer-1"))))

	// The hub's status writes leave the spoke's fields alone.
	m := getMember(g, "peer-1")
	g.Expect(m.Status.ProbeEndpoint).To(Equal("10.0.0.1:7000"))
	g.Expect(m.Status.AgentVersion).To(Equal("test"))
	g.Expect(meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionRegistered)).NotTo(BeNil())
}

func TestLeaseAvailabilityAndTaint(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const name = "lease-a"
	createMember(t, name, true)
	eventuallyCondition(t, name, fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)

	// An admin's own taint must survive the hub's taint handling.
	before := getMember(g, name)
	m := before.DeepCopy()
	m.Spec.Taints = []fleetv1alpha1.MemberTaint{{Key: "example.com/maintenance", Effect: fleetv1alpha1.TaintPreferNoPlace}}
	g.Expect(k8s.Patch(ctx, m, client.MergeFrom(before))).To(Succeed())

	// The spoke's Lease, written with the spoke's own credentials.
	spoke := spokeClient(t, name)
	const duration = 2
	window := time.Duration(float64(duration*time.Second) * testGrace)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: NamespaceFor(name), Name: LeaseName},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(name),
			LeaseDurationSeconds: ptr.To(int32(duration)),
			RenewTime:            &metav1.MicroTime{Time: time.Now()},
		},
	}
	g.Expect(spoke.Create(ctx, lease)).To(Succeed())
	eventuallyCondition(t, name, fleetv1alpha1.ConditionAvailable, metav1.ConditionTrue, fleetv1alpha1.ReasonLeaseFresh)
	lastRenew := lease.Spec.RenewTime.Time

	// Stop renewing: within the window (plus slack for a busy machine) the
	// member is unavailable and tainted.
	eventuallyCondition(t, name, fleetv1alpha1.ConditionAvailable, metav1.ConditionFalse, fleetv1alpha1.ReasonLeaseExpired)
	detected := time.Since(lastRenew)
	t.Logf("Lease window %s; expiry detected %s after the last renewal", window, detected)
	g.Expect(detected).To(BeNumerically(">", window))
	g.Expect(detected).To(BeNumerically("<", window+10*time.Second))
	g.Eventually(func(g Gomega) {
		m := getMember(g, name)
		taint := unreachableTaint(m)
		g.Expect(taint).NotTo(BeNil())
		g.Expect(taint.TimeAdded).NotTo(BeNil())
		g.Expect(m.Spec.Taints).To(ContainElement(HaveField("Key", "example.com/maintenance")))
	}, timeout, interval).Should(Succeed())
	eventuallyEvent(t, name, fleetv1alpha1.ReasonUnreachable)

	// Renew: both clear, the admin's taint stays.
	g.Expect(spoke.Get(ctx, client.ObjectKeyFromObject(lease), lease)).To(Succeed())
	lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	g.Expect(spoke.Update(ctx, lease)).To(Succeed())
	eventuallyCondition(t, name, fleetv1alpha1.ConditionAvailable, metav1.ConditionTrue, fleetv1alpha1.ReasonLeaseFresh)
	g.Eventually(func(g Gomega) {
		m := getMember(g, name)
		g.Expect(unreachableTaint(m)).To(BeNil())
		g.Expect(m.Spec.Taints).To(ConsistOf(HaveField("Key", "example.com/maintenance")))
	}, timeout, interval).Should(Succeed())
}

func TestMetrics(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const name = "metrics-a"
	createMember(t, name, true)
	eventuallyCondition(t, name, fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
	renewed := time.Now().Add(-4 * time.Second)
	g.Expect(spokeClient(t, name).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: NamespaceFor(name), Name: LeaseName},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To(int32(60)),
			RenewTime: &metav1.MicroTime{Time: renewed},
		},
	})).To(Succeed())
	eventuallyCondition(t, name, fleetv1alpha1.ConditionAvailable, metav1.ConditionTrue, fleetv1alpha1.ReasonLeaseFresh)

	g.Eventually(func(g Gomega) {
		families, err := registry.Gather()
		g.Expect(err).NotTo(HaveOccurred())
		byName := map[string]*dto.MetricFamily{}
		for _, f := range families {
			byName[f.GetName()] = f
		}
		g.Expect(byName).To(HaveKey(MetricMembers))
		g.Expect(byName).To(HaveKey(MetricLeaseAge))
		g.Expect(byName).To(HaveKey(MetricRegistrationLatency))

		var registeredTrue, availableTrue float64
		for _, mt := range byName[MetricMembers].Metric {
			l := labelMap(mt)
			if l["condition"] == "Registered" && l["status"] == "True" {
				registeredTrue = mt.GetGauge().GetValue()
			}
			if l["condition"] == "Available" && l["status"] == "True" {
				availableTrue = mt.GetGauge().GetValue()
			}
		}
		g.Expect(registeredTrue).To(BeNumerically(">=", 1))
		g.Expect(availableTrue).To(BeNumerically(">=", 1))

		var age float64 = -1
		for _, mt := range byName[MetricLeaseAge].Metric {
			if labelMap(mt)["member"] == name {
				age = mt.GetGauge().GetValue()
			}
		}
		g.Expect(age).To(BeNumerically(">=", 4))
		g.Expect(age).To(BeNumerically("<", time.Since(renewed).Seconds()+1))
	}, timeout, interval).Should(Succeed())
}

func labelMap(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestDeletionWaitsForServiceWorks(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const name = "drain-a"
	createMember(t, name, true)
	eventuallyCondition(t, name, fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)

	work := &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{Namespace: NamespaceFor(name), Name: "team-a.orders-db", Finalizers: []string{fleetv1alpha1.FinalizerWork}},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider},
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: "team-a", Name: "orders-db"},
			Service: &fleetv1alpha1.ServiceTemplate{
				Engine: fleetv1alpha1.EnginePostgreSQL, Version: "16", Replicas: 1,
				Storage: fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
			},
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: name, Namespaces: []string{"team-a"}},
		},
	}
	g.Expect(k8s.Create(ctx, work)).To(Succeed())

	g.Expect(k8s.Delete(ctx, &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	m := eventuallyCondition(t, name, fleetv1alpha1.ConditionRegistered, metav1.ConditionFalse, fleetv1alpha1.ReasonDraining)
	g.Expect(meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionRegistered).Message).To(ContainSubstring("team-a.orders-db"))
	g.Expect(eventuallyEvent(t, name, "DeletionBlocked")).To(ContainSubstring("team-a.orders-db"))
	// Still there, and its RBAC too, while the work exists.
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: ClusterRoleName(name)}, &rbacv1.ClusterRole{})).To(Succeed())

	// The spoke (here: the test) finishes the work's cleanup.
	g.Expect(k8s.Delete(ctx, work)).To(Succeed())
	g.Eventually(func(g Gomega) {
		m := getMember(g, name)
		c := meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionRegistered)
		g.Expect(c.Message).To(ContainSubstring("deleting"))
	}, timeout, interval).Should(Succeed())
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(work), work)).To(Succeed())
	work.Finalizers = nil
	g.Expect(k8s.Update(ctx, work)).To(Succeed())

	eventuallyGone(t, &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name}})
	eventuallyGone(t, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName(name)}})
	eventuallyGone(t, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName(name)}})
	// envtest runs no namespace controller: the namespace is only marked.
	ns := &corev1.Namespace{}
	err := k8s.Get(ctx, client.ObjectKey{Name: NamespaceFor(name)}, ns)
	g.Expect(apierrors.IsNotFound(err) || !ns.DeletionTimestamp.IsZero()).To(BeTrue())
}
