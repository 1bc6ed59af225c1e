package registration

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/membercluster"
	"github.com/berth-io/berth/hub/kubeconfig"
	"github.com/berth-io/berth/hub/spokeinstall"
)

func TestClusterRegistersMemberAndInstallsSpoke(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := newCluster("team-a", "prod").withLabel(fleetv1alpha1.LabelRole, "Services").create(t)
	createKubeconfigSecret(t, c, map[string][]byte{kubeconfig.CAPISecretKey: memberKubeconfig(t)})

	// Not initialized yet: nothing is registered.
	g.Consistently(func() bool { return memberExists("team-a-prod") }, 2*time.Second, interval).Should(BeFalse())

	initialize(t, c)
	m := eventuallyMemberCondition(t, "team-a-prod", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonClusterProvisioned)
	g.Expect(m.Spec.ClusterRef).To(Equal(&fleetv1alpha1.ClusterReference{Namespace: "team-a", Name: "prod"}))
	g.Expect(m.Spec.Accepted).To(BeTrue())
	g.Expect(m.Spec.Role).To(Equal(fleetv1alpha1.RoleServices))
	g.Expect(m.Status.Namespace).To(Equal("berth-member-team-a-prod"))
	g.Expect(meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionRegistered).Message).To(ContainSubstring("spoke installed"))
	g.Expect(eventuallyClusterEvent(t, c, EventRegistered)).To(ContainSubstring("team-a-prod"))

	// The spoke was installed into the member cluster with its credentials.
	dep := &appsv1.Deployment{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: spokeinstall.Namespace, Name: spokeinstall.Name}, dep)).To(Succeed())
	g.Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal(testSpokeImage))
	g.Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElements(
		"--member-name=team-a-prod", "--hub-namespace=berth-member-team-a-prod"))
	g.Expect(dep.Spec.Template.Spec.ServiceAccountName).To(Equal(spokeinstall.Name))
	hubSecret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "berth-member-team-a-prod", Name: membercluster.HubKubeconfigSecret}, hubSecret)).To(Succeed())
	memberSecret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: spokeinstall.Namespace, Name: spokeinstall.SecretName}, memberSecret)).To(Succeed())
	g.Expect(memberSecret.Data[kubeconfig.SecretKey]).To(Equal(hubSecret.Data[kubeconfig.SecretKey]))

	// The spoke's identity in the member cluster has the least rights listed.
	spokeSA := "system:serviceaccount:" + spokeinstall.Namespace + ":" + spokeinstall.Name
	can := func(verb, group, res, ns string) bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: spokeSA, Groups: []string{"system:serviceaccounts", "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: res, Namespace: ns},
		}}
		g.Expect(k8s.Create(ctx, sar)).To(Succeed())
		return sar.Status.Allowed
	}
	g.Expect(can("list", "", "nodes", "")).To(BeTrue())
	g.Expect(can("list", "", "pods", "")).To(BeTrue())
	g.Expect(can("list", "apiextensions.k8s.io", "customresourcedefinitions", "")).To(BeTrue())
	g.Expect(can("create", "acid.zalan.do", "postgresqls", "team-a")).To(BeTrue())
	g.Expect(can("create", "apps", "statefulsets", "team-a")).To(BeTrue())
	g.Expect(can("create", "networking.k8s.io", "networkpolicies", "team-a")).To(BeTrue())
	g.Expect(can("delete", "", "nodes", "")).To(BeFalse())
	g.Expect(can("create", "", "pods", "team-a")).To(BeFalse())
	g.Expect(can("update", "apiextensions.k8s.io", "customresourcedefinitions", "")).To(BeFalse())
	g.Expect(can("create", "rbac.authorization.k8s.io", "clusterroles", "")).To(BeFalse())
	g.Expect(can("create", "rbac.authorization.k8s.io", "clusterrolebindings", "")).To(BeFalse())
	g.Expect(can("create", "apps", "deployments", "team-a")).To(BeFalse())

	// The spoke heartbeats (simulated here with its real hub token): the
	// member becomes Available and the latency histogram gets a sample.
	cfg, err := kubeconfig.RESTConfig(hubSecret.Data[kubeconfig.SecretKey])
	g.Expect(err).NotTo(HaveOccurred())
	spoke, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(spoke.Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: "berth-member-team-a-prod", Name: membercluster.LeaseName},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("team-a-prod"), LeaseDurationSeconds: ptr.To(int32(600)),
			RenewTime: &metav1.MicroTime{Time: time.Now()}},
	})).To(Succeed())
	eventuallyMemberCondition(t, "team-a-prod", fleetv1alpha1.ConditionAvailable, metav1.ConditionTrue, fleetv1alpha1.ReasonLeaseFresh)
	g.Eventually(func(g Gomega) {
		families, err := registry.Gather()
		g.Expect(err).NotTo(HaveOccurred())
		var count uint64
		for _, f := range families {
			if f.GetName() == membercluster.MetricRegistrationLatency {
				count = f.Metric[0].GetHistogram().GetSampleCount()
			}
		}
		g.Expect(count).To(BeNumerically(">=", 1))
	}, timeout, interval).Should(Succeed())
}

func TestMissingKubeconfigRecordsEventAndWaits(t *testing.T) {
	g := NewWithT(t)
	c := newCluster("team-b", "missing").create(t)
	initialize(t, c)

	note := eventuallyClusterEvent(t, c, fleetv1alpha1.ReasonKubeconfigMissing)
	g.Expect(note).To(ContainSubstring("team-b/missing-kubeconfig does not exist"))
	g.Consistently(func() bool { return memberExists("team-b-missing") }, time.Second, interval).Should(BeFalse())
	// Only the one reason is reported.
	for _, e := range clusterEvents(g, c) {
		g.Expect(e.Reason).To(Equal(fleetv1alpha1.ReasonKubeconfigMissing))
	}

	// The Secret arrives: the Cluster is registered.
	createKubeconfigSecret(t, c, map[string][]byte{kubeconfig.CAPISecretKey: memberKubeconfig(t)})
	eventuallyMemberCondition(t, "team-b-missing", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonClusterProvisioned)
}

func TestCorruptKubeconfigRecordsEvent(t *testing.T) {
	testCases := []struct {
		name    string
		data    map[string][]byte
		wantMsg string
	}{
		{name: "garbage", data: map[string][]byte{"value": []byte("{{{ not a kubeconfig")}, wantMsg: "does not parse"},
		{name: "wrongkey", data: map[string][]byte{"kubeconfig": []byte("x")}, wantMsg: `has no key "value"`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := newCluster("team-c", tc.name).create(t)
			createKubeconfigSecret(t, c, tc.data)
			initialize(t, c)
			g.Expect(eventuallyClusterEvent(t, c, fleetv1alpha1.ReasonKubeconfigInvalid)).To(ContainSubstring(tc.wantMsg))
			g.Consistently(func() bool { return memberExists("team-c-" + tc.name) }, time.Second, interval).Should(BeFalse())
			for _, e := range clusterEvents(g, c) {
				g.Expect(e.Reason).To(Equal(fleetv1alpha1.ReasonKubeconfigInvalid))
			}
		})
	}
}

func TestPausedClusterIsReflected(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := newCluster("team-d", "paused").paused().create(t)
	createKubeconfigSecret(t, c, map[string][]byte{kubeconfig.CAPISecretKey: memberKubeconfig(t)})
	initialize(t, c)

	m := eventuallyMemberCondition(t, "team-d-paused", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonClusterPaused)
	g.Expect(meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionRegistered).Message).To(ContainSubstring("team-d/paused is paused"))

	cur := &clusterv1.Cluster{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(c), cur)).To(Succeed())
	cur.Spec.Paused = ptr.To(false)
	g.Expect(k8s.Update(ctx, cur)).To(Succeed())
	eventuallyMemberCondition(t, "team-d-paused", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonClusterProvisioned)
}

func TestBadNameRoleAndConflictRecordEvents(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()

	bad := newCluster("team-e", "badname").withAnnotation(fleetv1alpha1.AnnotationMemberName, "Not_A_Label").create(t)
	createKubeconfigSecret(t, bad, map[string][]byte{kubeconfig.CAPISecretKey: memberKubeconfig(t)})
	initialize(t, bad)
	g.Expect(eventuallyClusterEvent(t, bad, EventInvalidMemberName)).To(ContainSubstring("annotation fleet.berth.io/member-name"))

	role := newCluster("team-e", "badrole").withLabel(fleetv1alpha1.LabelRole, "gpu").create(t)
	createKubeconfigSecret(t, role, map[string][]byte{kubeconfig.CAPISecretKey: memberKubeconfig(t)})
	initialize(t, role)
	g.Expect(eventuallyClusterEvent(t, role, EventInvalidRole)).To(ContainSubstring("label fleet.berth.io/role"))
	g.Expect(memberExists("team-e-badrole")).To(BeFalse())

	manual := &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: "taken"}}
	g.Expect(k8s.Create(ctx, manual)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(ctx, manual) })
	clash := newCluster("team-e", "clash").withAnnotation(fleetv1alpha1.AnnotationMemberName, "taken").create(t)
	createKubeconfigSecret(t, clash, map[string][]byte{kubeconfig.CAPISecretKey: memberKubeconfig(t)})
	initialize(t, clash)
	g.Expect(eventuallyClusterEvent(t, clash, EventNameConflict)).To(ContainSubstring("already used by a manual join"))
	got := &fleetv1alpha1.MemberCluster{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "taken"}, got)).To(Succeed())
	g.Expect(got.Spec.ClusterRef).To(BeNil())
	g.Expect(got.Spec.Accepted).To(BeFalse())
}

func TestClusterDeletionDrainsThenDeletesMember(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const name = "del-a"
	// A finalizer stands in for CAPI's own, so the Cluster is "deleting"
	// for a while before it is gone.
	c := newCluster("team-f", "del").withAnnotation(fleetv1alpha1.AnnotationMemberName, name).
		withFinalizer("test.berth.io/hold").create(t)
	createKubeconfigSecret(t, c, map[string][]byte{kubeconfig.CAPISecretKey: memberKubeconfig(t)})
	initialize(t, c)
	eventuallyMemberCondition(t, name, fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonClusterProvisioned)

	work := &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{Namespace: membercluster.NamespaceFor(name), Name: "team-f.cache", Finalizers: []string{fleetv1alpha1.FinalizerWork}},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider},
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: "team-f", Name: "cache"},
			Service: &fleetv1alpha1.ServiceTemplate{Engine: fleetv1alpha1.EngineRedis, Version: "7", Replicas: 1,
				Storage: fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}},
			Consumer: fleetv1alpha1.ConsumerSpec{Cluster: name, Namespaces: []string{"team-f"}},
		},
	}
	g.Expect(k8s.Create(ctx, work)).To(Succeed())

	g.Expect(k8s.Delete(ctx, c)).To(Succeed())
	m := eventuallyMemberCondition(t, name, fleetv1alpha1.ConditionRegistered, metav1.ConditionFalse, fleetv1alpha1.ReasonDraining)
	g.Expect(m.DeletionTimestamp).NotTo(BeNil())
	g.Expect(meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionRegistered).Message).To(ContainSubstring("team-f.cache"))

	// The Cluster goes away; the member stays while the work exists.
	cur := &clusterv1.Cluster{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(c), cur)).To(Succeed())
	cur.Finalizers = nil
	g.Expect(k8s.Update(ctx, cur)).To(Succeed())
	g.Consistently(func() bool { return memberExists(name) }, 2*time.Second, interval).Should(BeTrue())

	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(work), work)).To(Succeed())
	work.Finalizers = nil
	g.Expect(k8s.Update(ctx, work)).To(Succeed())
	g.Expect(k8s.Delete(ctx, work)).To(Succeed())
	g.Eventually(func() bool { return memberExists(name) }, timeout, interval).Should(BeFalse())
}
