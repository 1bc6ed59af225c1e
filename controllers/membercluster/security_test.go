package membercluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// access is one SubjectAccessReview question.
type access struct {
	verb, group, resource, subresource, namespace, name string
}

func (a access) String() string {
	r := a.resource
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.group != "" {
		r += "." + a.group
	}
	return fmt.Sprintf("%s %s ns=%q name=%q", a.verb, r, a.namespace, a.name)
}

// allowed asks the hub apiserver whether member's spoke may do a.
func allowed(g Gomega, member string, a access) bool {
	ns := NamespaceFor(member)
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   SpokeUsername(member),
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource,
			Namespace: a.namespace, Name: a.name,
		},
	}}
	g.Expect(k8s.Create(context.Background(), sar)).To(Succeed())
	return sar.Status.Allowed
}

const fleetGroup = "fleet.berth.io"

func TestSpokeSecurityMatrix(t *testing.T) {
	g := NewWithT(t)
	createMember(t, "sec-a", true)
	createMember(t, "sec-b", true)
	eventuallyCondition(t, "sec-a", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
	eventuallyCondition(t, "sec-b", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
	a, b := NamespaceFor("sec-a"), NamespaceFor("sec-b")

	allow := []access{
		{"get", fleetGroup, "serviceworks", "", a, "w"},
		{"list", fleetGroup, "serviceworks", "", a, ""},
		{"watch", fleetGroup, "serviceworks", "", a, ""},
		{"get", fleetGroup, "serviceworks", "status", a, "w"},
		{"update", fleetGroup, "serviceworks", "status", a, "w"},
		{"patch", fleetGroup, "serviceworks", "status", a, "w"},
		{"create", "coordination.k8s.io", "leases", "", a, ""},
		{"get", "coordination.k8s.io", "leases", "", a, LeaseName},
		{"update", "coordination.k8s.io", "leases", "", a, LeaseName},
		{"patch", "coordination.k8s.io", "leases", "", a, LeaseName},
		{"get", "", "secrets", "", a, HubKubeconfigSecret},
		{"list", "", "secrets", "", a, ""},
		{"watch", "", "secrets", "", a, ""},
		{"create", "", "secrets", "", a, ""},
		{"update", "", "secrets", "", a, "team.db.published"},
		{"delete", "", "secrets", "", a, "team.db.published"},
		{"get", "", "configmaps", "", a, PeersConfigMap},
		{"list", "", "configmaps", "", a, ""},
		{"watch", "", "configmaps", "", a, ""},
		{"create", "", "events", "", a, ""},
		{"patch", "", "events", "", a, "e"},
		{"create", "events.k8s.io", "events", "", a, ""},
		{"get", fleetGroup, "memberclusters", "", "", "sec-a"},
		{"get", fleetGroup, "memberclusters", "status", "", "sec-a"},
		{"update", fleetGroup, "memberclusters", "status", "", "sec-a"},
		{"patch", fleetGroup, "memberclusters", "status", "", "sec-a"},
	}
	deny := []access{
		// Own namespace, beyond the contract.
		{"create", fleetGroup, "serviceworks", "", a, ""},
		{"update", fleetGroup, "serviceworks", "", a, "w"},
		{"patch", fleetGroup, "serviceworks", "", a, "w"},
		{"delete", fleetGroup, "serviceworks", "", a, "w"},
		{"get", "coordination.k8s.io", "leases", "", a, "other"},
		{"update", "coordination.k8s.io", "leases", "", a, "other"},
		{"delete", "coordination.k8s.io", "leases", "", a, LeaseName},
		{"list", "coordination.k8s.io", "leases", "", a, ""},
		{"create", "", "configmaps", "", a, ""},
		{"update", "", "configmaps", "", a, PeersConfigMap},
		{"get", "", "pods", "", a, "p"},
		{"create", "", "serviceaccounts", "token", a, SpokeServiceAccount},
		{"create", "rbac.authorization.k8s.io", "rolebindings", "", a, ""},
		{"get", fleetGroup, "managedservices", "", a, "m"},
		// B's namespace: nothing.
		{"get", fleetGroup, "serviceworks", "", b, "w"},
		{"list", fleetGroup, "serviceworks", "", b, ""},
		{"update", fleetGroup, "serviceworks", "status", b, "w"},
		{"create", "coordination.k8s.io", "leases", "", b, ""},
		{"update", "coordination.k8s.io", "leases", "", b, LeaseName},
		{"get", "", "secrets", "", b, HubKubeconfigSecret},
		{"list", "", "secrets", "", b, ""},
		{"get", "", "configmaps", "", b, PeersConfigMap},
		{"create", "", "events", "", b, ""},
		// Cluster-wide.
		{"list", fleetGroup, "memberclusters", "", "", ""},
		{"watch", fleetGroup, "memberclusters", "", "", ""},
		{"get", fleetGroup, "memberclusters", "", "", "sec-b"},
		{"update", fleetGroup, "memberclusters", "", "", "sec-a"},
		{"patch", fleetGroup, "memberclusters", "", "", "sec-a"},
		{"delete", fleetGroup, "memberclusters", "", "", "sec-a"},
		{"create", fleetGroup, "memberclusters", "", "", ""},
		{"update", fleetGroup, "memberclusters", "status", "", "sec-b"},
		{"list", "", "secrets", "", "", ""},
		{"get", "", "secrets", "", "kube-system", "x"},
		{"list", fleetGroup, "serviceworks", "", "", ""},
		{"list", fleetGroup, "managedservices", "", "", ""},
		{"get", fleetGroup, "managedservices", "", "default", "m"},
		{"create", fleetGroup, "managedservices", "", "default", ""},
		{"list", fleetGroup, "placementpolicies", "", "", ""},
		{"list", "", "namespaces", "", "", ""},
		{"list", "coordination.k8s.io", "leases", "", "", ""},
		{"list", "cluster.x-k8s.io", "clusters", "", "", ""},
	}
	for _, q := range allow {
		g.Expect(allowed(g, "sec-a", q)).To(BeTrue(), "spoke A should be allowed: %s", q)
	}
	for _, q := range deny {
		g.Expect(allowed(g, "sec-a", q)).To(BeFalse(), "spoke A should be denied: %s", q)
	}
}

// TestSpokeRulesAreExactly checks, with the spoke's real token, that the
// rules it holds in its namespace are the contract's and nothing more
// (apart from the self-review rules every authenticated user has).
func TestSpokeRulesAreExactly(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	createMember(t, "exact-a", true)
	eventuallyCondition(t, "exact-a", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
	spoke := spokeClient(t, "exact-a")

	review := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: NamespaceFor("exact-a")}}
	g.Expect(spoke.Create(ctx, review)).To(Succeed())
	var got []string
	for _, r := range review.Status.ResourceRules {
		for _, grp := range r.APIGroups {
			if grp == "authorization.k8s.io" || grp == "authentication.k8s.io" {
				continue // selfsubject*reviews of system:basic-user
			}
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					got = append(got, fmt.Sprintf("%s|%s|%s|%s", grp, res, v, strings.Join(r.ResourceNames, ",")))
				}
			}
		}
	}
	var want []string
	for _, r := range append(SpokeRules(), ClusterRules("exact-a")...) {
		for _, grp := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					want = append(want, fmt.Sprintf("%s|%s|%s|%s", grp, res, v, strings.Join(r.ResourceNames, ",")))
				}
			}
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	g.Expect(got).To(Equal(want))

	// And the token works as reviewed: own Lease yes, B's namespace no,
	// other members no, own member yes.
	g.Expect(spoke.Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: NamespaceFor("exact-a"), Name: LeaseName},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To("exact-a"), LeaseDurationSeconds: ptr.To(int32(600))},
	})).To(Succeed())
	createMember(t, "exact-b", true)
	eventuallyCondition(t, "exact-b", fleetv1alpha1.ConditionRegistered, metav1.ConditionTrue, fleetv1alpha1.ReasonIdentityIssued)
	err := spoke.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: NamespaceFor("exact-b"), Name: LeaseName}})
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "creating a Lease in B's namespace: %v", err)
	err = spoke.List(ctx, &fleetv1alpha1.MemberClusterList{})
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "listing members: %v", err)
	err = spoke.Get(ctx, client.ObjectKey{Name: "exact-b"}, &fleetv1alpha1.MemberCluster{})
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "getting B: %v", err)
	g.Expect(spoke.Get(ctx, client.ObjectKey{Name: "exact-a"}, &fleetv1alpha1.MemberCluster{})).To(Succeed())
	err = spoke.List(ctx, &fleetv1alpha1.ManagedServiceList{})
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "listing ManagedServices: %v", err)
}
