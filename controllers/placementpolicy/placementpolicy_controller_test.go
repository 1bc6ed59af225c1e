package placementpolicy

import (
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	berthplacement "github.com/berth-io/berth/placement"
	ptesting "github.com/berth-io/berth/placement/testing"
)

func TestSetAcceptedCondition(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	testCases := []struct {
		name        string
		err         error
		others      []string
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage string
	}{
		{name: "valid", wantStatus: metav1.ConditionTrue, wantReason: fleetv1alpha1.ReasonValid, wantMessage: "The policy's plugins exist and their args decode"},
		{
			name: "invalid, every problem on one line", err: errors.Join(errors.New("spec.filters[1].name: unknown plugin \"Foo\""), errors.New("spec.scores[0].weight: must be 1..100, got 0")),
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonPolicyInvalid,
			wantMessage: `spec.filters[1].name: unknown plugin "Foo"; spec.scores[0].weight: must be 1..100, got 0`,
		},
		{
			name: "several defaults", others: []string{"zeta", "alpha"},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonMultipleDefaults,
			wantMessage: "3 policies set spec.default (alpha, p, zeta); none of them is used until only one does",
		},
		{
			name: "invalid wins over several defaults", err: errors.New("bad"), others: []string{"x"},
			wantStatus: metav1.ConditionFalse, wantReason: fleetv1alpha1.ReasonPolicyInvalid, wantMessage: "bad",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			pp := ptesting.NewPolicy("p").Build()
			pp.Generation = 3
			setAcceptedCondition(pp, tc.err, tc.others, now)
			c := meta.FindStatusCondition(pp.Status.Conditions, fleetv1alpha1.ConditionAccepted)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(tc.wantStatus))
			g.Expect(c.Reason).To(Equal(tc.wantReason))
			g.Expect(c.Message).To(Equal(tc.wantMessage))
			g.Expect(c.ObservedGeneration).To(Equal(int64(3)))
		})
	}
}

func TestReconcile(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := fleetv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	placer, err := berthplacement.NewPlacer(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	testCases := []struct {
		name       string
		objects    []client.Object
		policy     string
		wantReason string
	}{
		{
			name:       "valid policy",
			objects:    []client.Object{ptesting.NewPolicy("a").Strategy(fleetv1alpha1.StrategyDedicated).Score("Latency", 5).Build()},
			policy:     "a",
			wantReason: fleetv1alpha1.ReasonValid,
		},
		{
			name:       "unknown plugin",
			objects:    []client.Object{ptesting.NewPolicy("a").Filter("StrategyRole", nil).Filter("Nope", nil).Build()},
			policy:     "a",
			wantReason: fleetv1alpha1.ReasonPolicyInvalid,
		},
		{
			name:       "one default",
			objects:    []client.Object{ptesting.NewPolicy("a").Default().Build(), ptesting.NewPolicy("b").Build()},
			policy:     "a",
			wantReason: fleetv1alpha1.ReasonValid,
		},
		{
			name:       "two defaults",
			objects:    []client.Object{ptesting.NewPolicy("a").Default().Build(), ptesting.NewPolicy("b").Default().Build()},
			policy:     "b",
			wantReason: fleetv1alpha1.ReasonMultipleDefaults,
		},
		{
			name:       "a non-default next to two defaults",
			objects:    []client.Object{ptesting.NewPolicy("a").Default().Build(), ptesting.NewPolicy("b").Default().Build(), ptesting.NewPolicy("c").Build()},
			policy:     "c",
			wantReason: fleetv1alpha1.ReasonValid,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.objects...).
				WithStatusSubresource(&fleetv1alpha1.PlacementPolicy{}).Build()
			r := &Reconciler{Client: c, Placer: placer, Clock: clocktesting.NewFakePassiveClock(time.Now())}
			ctx := context.Background()
			_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: tc.policy}})
			g.Expect(err).NotTo(HaveOccurred())
			pp := &fleetv1alpha1.PlacementPolicy{}
			g.Expect(c.Get(ctx, client.ObjectKey{Name: tc.policy}, pp)).To(Succeed())
			g.Expect(meta.FindStatusCondition(pp.Status.Conditions, fleetv1alpha1.ConditionAccepted).Reason).To(Equal(tc.wantReason))
			g.Expect(pp.Status.ObservedGeneration).To(Equal(pp.Generation))

			// A second pass changes nothing.
			before := pp.ResourceVersion
			_, err = r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: tc.policy}})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Get(ctx, client.ObjectKey{Name: tc.policy}, pp)).To(Succeed())
			g.Expect(pp.ResourceVersion).To(Equal(before))
		})
	}

	// A missing policy is not an error.
	g := NewWithT(t)
	r := &Reconciler{Client: fake.NewClientBuilder().WithScheme(scheme).Build(), Placer: placer, Clock: clocktesting.NewFakePassiveClock(time.Now())}
	_, err = r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKey{Name: "gone"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect((&Reconciler{}).SetupWithManager(nil)).To(MatchError(ContainSubstring("Client must not be nil")))
}
