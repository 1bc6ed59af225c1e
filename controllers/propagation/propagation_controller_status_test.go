package propagation

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/internal/binding"
)

type workOpt func(*fleetv1alpha1.ServiceWork)

func applied(w *fleetv1alpha1.ServiceWork) {
	w.Status.ObservedGeneration = w.Generation
	w.Status.Conditions = append(w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionApplied, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonWorkApplied})
}

func available(w *fleetv1alpha1.ServiceWork) {
	w.Status.ReadyReplicas = 3
	w.Status.Conditions = append(w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionAvailable, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonEngineReady})
}

func bound(w *fleetv1alpha1.ServiceWork) {
	w.Status.Endpoint = &fleetv1alpha1.Endpoint{Host: "orders", Port: 5432, SecretName: "orders-credentials"}
}

func staleGeneration(w *fleetv1alpha1.ServiceWork) { w.Spec.ServiceRef.Generation = 1 }

func failedApply(w *fleetv1alpha1.ServiceWork) {
	w.Status.Conditions = append(w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionApplied, Status: metav1.ConditionFalse, Reason: fleetv1alpha1.ReasonApplyFailed, Message: "quota exceeded"})
}

func conflict(w *fleetv1alpha1.ServiceWork) {
	w.Status.Conditions = append(w.Status.Conditions, metav1.Condition{Type: fleetv1alpha1.ConditionConflict, Status: metav1.ConditionTrue, Reason: fleetv1alpha1.ReasonObjectConflict, Message: "Service shop/orders is not owned by berth"})
}

func TestSummarize(t *testing.T) {
	ms := &fleetv1alpha1.ManagedService{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "orders", Generation: 2}}
	ms.Spec.Consumer.Cluster = "w1"
	colocated := newWork(ms, "w1", fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer)
	colocated.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: "w1"}
	provider := newWork(ms, "s1", fleetv1alpha1.RoleProvider)
	target := newWork(ms, "s2", fleetv1alpha1.RoleProvider)
	consumer := newWork(ms, "w1", fleetv1alpha1.RoleConsumer)
	consumer.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: "s1"}
	live := func(d *fleetv1alpha1.ServiceWork, opts ...workOpt) fleetv1alpha1.ServiceWork {
		w := d.DeepCopy()
		w.Generation = 1
		for _, o := range opts {
			o(w)
		}
		return *w
	}
	testCases := []struct {
		name           string
		desired        []*fleetv1alpha1.ServiceWork
		live           []fleetv1alpha1.ServiceWork
		wantPropagated metav1.ConditionStatus
		wantPropReason string
		wantReady      metav1.ConditionStatus
		wantReadyReas  string
		wantEndpoint   bool
	}{
		{name: "not placed", wantPropagated: metav1.ConditionFalse, wantPropReason: fleetv1alpha1.ReasonWorkPending,
			wantReady: metav1.ConditionFalse, wantReadyReas: fleetv1alpha1.ReasonWorkPending},
		{name: "work not written", desired: []*fleetv1alpha1.ServiceWork{colocated},
			wantPropagated: metav1.ConditionFalse, wantPropReason: fleetv1alpha1.ReasonWorkPending, wantReady: metav1.ConditionFalse, wantReadyReas: fleetv1alpha1.ReasonWorkPending},
		{name: "applied at an older service generation", desired: []*fleetv1alpha1.ServiceWork{colocated},
			live:           []fleetv1alpha1.ServiceWork{live(colocated, staleGeneration, applied, available, bound)},
			wantPropagated: metav1.ConditionFalse, wantPropReason: fleetv1alpha1.ReasonWorkPending, wantReady: metav1.ConditionFalse, wantReadyReas: fleetv1alpha1.ReasonWorkPending, wantEndpoint: true},
		{name: "apply failed", desired: []*fleetv1alpha1.ServiceWork{colocated},
			live:           []fleetv1alpha1.ServiceWork{live(colocated, failedApply)},
			wantPropagated: metav1.ConditionFalse, wantPropReason: fleetv1alpha1.ReasonApplyFailed, wantReady: metav1.ConditionFalse, wantReadyReas: fleetv1alpha1.ReasonApplyFailed},
		{name: "conflict wins over pending", desired: []*fleetv1alpha1.ServiceWork{provider, consumer},
			live:           []fleetv1alpha1.ServiceWork{live(provider), live(consumer, conflict)},
			wantPropagated: metav1.ConditionFalse, wantPropReason: fleetv1alpha1.ReasonObjectConflict, wantReady: metav1.ConditionFalse, wantReadyReas: fleetv1alpha1.ReasonObjectConflict},
		{name: "co-located applied, engine not ready", desired: []*fleetv1alpha1.ServiceWork{colocated},
			live:           []fleetv1alpha1.ServiceWork{live(colocated, applied, bound)},
			wantPropagated: metav1.ConditionTrue, wantPropReason: fleetv1alpha1.ReasonWorkApplied, wantReady: metav1.ConditionFalse, wantReadyReas: fleetv1alpha1.ReasonEngineNotReady, wantEndpoint: true},
		{name: "co-located ready", desired: []*fleetv1alpha1.ServiceWork{colocated},
			live:           []fleetv1alpha1.ServiceWork{live(colocated, applied, available, bound)},
			wantPropagated: metav1.ConditionTrue, wantPropReason: fleetv1alpha1.ReasonWorkApplied, wantReady: metav1.ConditionTrue, wantReadyReas: fleetv1alpha1.ReasonEngineReady, wantEndpoint: true},
		{name: "remote, binding missing", desired: []*fleetv1alpha1.ServiceWork{provider, consumer},
			live:           []fleetv1alpha1.ServiceWork{live(provider, applied, available), live(consumer, applied)},
			wantPropagated: metav1.ConditionTrue, wantPropReason: fleetv1alpha1.ReasonWorkApplied, wantReady: metav1.ConditionFalse, wantReadyReas: fleetv1alpha1.ReasonBindingMissing},
		{name: "moving: the target is pending, the old provider serves", desired: []*fleetv1alpha1.ServiceWork{provider, target, consumer},
			live:           []fleetv1alpha1.ServiceWork{live(provider, applied, available), live(target), live(consumer, applied, bound)},
			wantPropagated: metav1.ConditionFalse, wantPropReason: fleetv1alpha1.ReasonWorkPending, wantReady: metav1.ConditionTrue, wantReadyReas: fleetv1alpha1.ReasonEngineReady, wantEndpoint: true},
		{name: "remote ready", desired: []*fleetv1alpha1.ServiceWork{provider, consumer},
			live:           []fleetv1alpha1.ServiceWork{live(provider, applied, available), live(consumer, applied, bound)},
			wantPropagated: metav1.ConditionTrue, wantPropReason: fleetv1alpha1.ReasonWorkApplied, wantReady: metav1.ConditionTrue, wantReadyReas: fleetv1alpha1.ReasonEngineReady, wantEndpoint: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b := binding.Read(ms, tc.live)
			s := summarize(ms, tc.desired, b.Providers[b.Bound], b.Consumer, tc.live)
			g.Expect(s.Propagated.Status).To(Equal(tc.wantPropagated), s.Propagated.Message)
			g.Expect(s.Propagated.Reason).To(Equal(tc.wantPropReason))
			g.Expect(s.Ready.Status).To(Equal(tc.wantReady), s.Ready.Message)
			g.Expect(s.Ready.Reason).To(Equal(tc.wantReadyReas))
			g.Expect(s.Endpoint != nil).To(Equal(tc.wantEndpoint))
		})
	}
}
