package join_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/membercluster"
	"github.com/berth-io/berth/hub/join"
	"github.com/berth-io/berth/hub/kubeconfig"
)

const (
	timeout  = 30 * time.Second
	interval = 100 * time.Millisecond
)

func clientFor(g Gomega, kc []byte) client.Client {
	cfg, err := kubeconfig.RESTConfig(kc)
	g.Expect(err).NotTo(HaveOccurred())
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	return c
}

func whoAmI(ctx context.Context, c client.Client) (string, error) {
	r := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, r); err != nil {
		return "", err
	}
	return r.Status.UserInfo.Username, nil
}

func registered(g Gomega, name string) *metav1.Condition {
	m := &fleetv1alpha1.MemberCluster{}
	g.Expect(env.Client.Get(context.Background(), client.ObjectKey{Name: name}, m)).To(Succeed())
	return meta.FindStatusCondition(m.Status.Conditions, fleetv1alpha1.ConditionRegistered)
}

func TestManualJoin(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	admin := env.Client

	_, err := join.CreateToken(ctx, admin, time.Minute)
	g.Expect(err).To(MatchError(ContainSubstring("ttl")))

	tok, err := join.CreateToken(ctx, admin, 15*time.Minute)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(time.Until(tok.Expires)).To(BeNumerically("~", 15*time.Minute, time.Minute))
	kc, err := tok.Kubeconfig(env.Config.Host, env.Config.CAData)
	g.Expect(err).NotTo(HaveOccurred())
	bootstrap := clientFor(g, kc)
	who, err := whoAmI(ctx, bootstrap)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(who).To(Equal(tok.Username))

	// The admission policy stops a bootstrap identity from accepting itself
	// or posing as another joiner (dry run, once the policy is loaded).
	selfAccepted := &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "sneaky", Annotations: map[string]string{fleetv1alpha1.AnnotationJoinedBy: tok.Username}},
		Spec:       fleetv1alpha1.MemberClusterSpec{Accepted: true},
	}
	g.Eventually(func() error {
		return bootstrap.Create(ctx, selfAccepted.DeepCopy(), client.DryRunAll)
	}, timeout, interval).Should(MatchError(ContainSubstring("spec.accepted")))
	posing := &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "sneaky", Annotations: map[string]string{fleetv1alpha1.AnnotationJoinedBy: "someone-else"}},
	}
	g.Expect(bootstrap.Create(ctx, posing, client.DryRunAll)).To(MatchError(ContainSubstring("joined-by")))
	withRef := &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "sneaky", Annotations: map[string]string{fleetv1alpha1.AnnotationJoinedBy: tok.Username}},
		Spec:       fleetv1alpha1.MemberClusterSpec{ClusterRef: &fleetv1alpha1.ClusterReference{Namespace: "x", Name: "y"}},
	}
	g.Expect(bootstrap.Create(ctx, withRef, client.DryRunAll)).To(MatchError(ContainSubstring("spec.clusterRef")))

	// Join, and the hub leaves the member alone until accepted.
	g.Expect(join.Join(ctx, bootstrap, "Bad_Name", "")).To(MatchError(ContainSubstring("name")))
	g.Expect(join.Join(ctx, bootstrap, "edge-1", "GPU")).To(MatchError(ContainSubstring("role")))
	g.Expect(join.Join(ctx, bootstrap, "edge-1", "")).To(Succeed())
	g.Expect(join.Join(ctx, bootstrap, "edge-1", "")).To(MatchError(ContainSubstring("already exists")))
	m := &fleetv1alpha1.MemberCluster{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: "edge-1"}, m)).To(Succeed())
	g.Expect(m.Spec.Accepted).To(BeFalse())
	g.Expect(m.Spec.Role).To(Equal(fleetv1alpha1.RoleWorkload))
	g.Expect(m.Annotations).To(HaveKeyWithValue(fleetv1alpha1.AnnotationJoinedBy, tok.Username))
	g.Eventually(func(g Gomega) {
		c := registered(g, "edge-1")
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(fleetv1alpha1.ReasonNotAccepted))
	}, timeout, interval).Should(Succeed())

	// The bootstrap identity can do nothing else.
	m.Spec.Accepted = true
	g.Expect(apierrors.IsForbidden(bootstrap.Update(ctx, m))).To(BeTrue())
	g.Expect(apierrors.IsForbidden(bootstrap.List(ctx, &fleetv1alpha1.MemberClusterList{}))).To(BeTrue())
	g.Expect(apierrors.IsForbidden(bootstrap.List(ctx, &corev1.SecretList{}))).To(BeTrue())

	short, cancel := context.WithTimeout(ctx, time.Second)
	_, err = join.WaitForCredentials(short, bootstrap, "edge-1", 200*time.Millisecond)
	cancel()
	g.Expect(err).To(MatchError(ContainSubstring("waiting for member edge-1")))

	// Accept: the hub registers it and the joiner can fetch the spoke's
	// credentials, and nothing of other members.
	_, err = join.Accept(ctx, admin, "nope")
	g.Expect(err).To(MatchError(ContainSubstring("does not exist")))
	changed, err := join.Accept(ctx, admin, "edge-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(BeTrue())
	changed, err = join.Accept(ctx, admin, "edge-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(BeFalse())

	wait, cancel := context.WithTimeout(ctx, timeout)
	spokeKC, err := join.WaitForCredentials(wait, bootstrap, "edge-1", 200*time.Millisecond)
	cancel()
	g.Expect(err).NotTo(HaveOccurred())
	who, err = whoAmI(ctx, clientFor(g, spokeKC))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(who).To(Equal(membercluster.SpokeUsername("edge-1")))
	g.Expect(registered(g, "edge-1").Reason).To(Equal(fleetv1alpha1.ReasonIdentityIssued))

	other := &fleetv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: fleetv1alpha1.MemberClusterSpec{Accepted: true}}
	g.Expect(admin.Create(ctx, other)).To(Succeed())
	g.Eventually(func() error {
		return admin.Get(ctx, client.ObjectKey{Namespace: membercluster.NamespaceFor("other"), Name: membercluster.HubKubeconfigSecret}, &corev1.Secret{})
	}, timeout, interval).Should(Succeed())
	err = bootstrap.Get(ctx, client.ObjectKey{Namespace: membercluster.NamespaceFor("other"), Name: membercluster.HubKubeconfigSecret}, &corev1.Secret{})
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "reading another member's credentials: %v", err)

	// Once expired, the bootstrap identity is removed and its token is dead.
	n, err := join.DeleteExpired(ctx, admin, time.Now())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(n).To(Equal(0))
	n, err = join.DeleteExpired(ctx, admin, time.Now().Add(16*time.Minute))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(n).To(BeNumerically(">=", 1))
	g.Eventually(func() error {
		_, err := whoAmI(ctx, bootstrap)
		return err
	}, timeout, interval).Should(Satisfy(apierrors.IsUnauthorized))
}
