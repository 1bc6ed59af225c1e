package binding

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

func TestRead(t *testing.T) {
	ms := &fleetv1alpha1.ManagedService{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "orders"}}
	ms.Spec.Consumer.Cluster = "w1"
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	work := func(member string, age int, provider string, roles ...fleetv1alpha1.WorkRole) fleetv1alpha1.ServiceWork {
		w := fleetv1alpha1.ServiceWork{ObjectMeta: metav1.ObjectMeta{
			Namespace: fleetv1alpha1.MemberNamespace(member), Name: "team.orders",
			CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(age) * time.Minute)),
			Annotations: map[string]string{
				fleetv1alpha1.AnnotationPlacementStrategy: "Dedicated",
				fleetv1alpha1.AnnotationDecidedAt:         t0.Add(time.Duration(age) * time.Minute).Format(time.RFC3339),
			},
		}}
		w.Spec.ServiceRef = fleetv1alpha1.ServiceReference{Namespace: "team", Name: "orders"}
		w.Spec.Roles = roles
		if provider != "" {
			w.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: provider}
		}
		return w
	}
	deleting := func(w fleetv1alpha1.ServiceWork) fleetv1alpha1.ServiceWork {
		now := metav1.NewTime(t0)
		w.DeletionTimestamp = &now
		return w
	}
	other := work("s9", 0, "", fleetv1alpha1.RoleProvider)
	other.Spec.ServiceRef.Name = "other"
	P, C := fleetv1alpha1.RoleProvider, fleetv1alpha1.RoleConsumer

	testCases := []struct {
		name         string
		works        []fleetv1alpha1.ServiceWork
		wantBound    string
		wantTarget   string
		wantRecorded string
		wantOK       bool
	}{
		{name: "no works"},
		{name: "co-located", works: []fleetv1alpha1.ServiceWork{work("w1", 0, "w1", P, C)},
			wantBound: "w1", wantRecorded: "w1", wantOK: true},
		{name: "remote", works: []fleetv1alpha1.ServiceWork{work("s1", 0, "", P), work("w1", 1, "s1", C)},
			wantBound: "s1", wantRecorded: "s1", wantOK: true},
		{name: "moving: the record is the target's", works: []fleetv1alpha1.ServiceWork{work("s1", 0, "", P), work("w1", 1, "s1", C), work("s2", 5, "", P)},
			wantBound: "s1", wantTarget: "s2", wantRecorded: "s2", wantOK: true},
		{name: "moving to the consumer's cluster", works: []fleetv1alpha1.ServiceWork{work("s1", 0, "", P), work("w1", 1, "s1", P, C)},
			wantBound: "s1", wantTarget: "w1", wantRecorded: "w1", wantOK: true},
		{name: "moving away from the consumer's cluster", works: []fleetv1alpha1.ServiceWork{work("w1", 0, "w1", P, C), work("s2", 3, "", P)},
			wantBound: "w1", wantTarget: "s2", wantRecorded: "s2", wantOK: true},
		{name: "switched: the old provider is being deleted", works: []fleetv1alpha1.ServiceWork{deleting(work("s1", 0, "", P)), work("w1", 1, "s2", C), work("s2", 5, "", P)},
			wantBound: "s2", wantRecorded: "s2", wantOK: true},
		{name: "no consumer work: the oldest provider is bound", works: []fleetv1alpha1.ServiceWork{work("s2", 5, "", P), work("s1", 0, "", P)},
			wantBound: "s1", wantTarget: "s2", wantRecorded: "s2", wantOK: true},
		{name: "consumer bound to a provider without a work", works: []fleetv1alpha1.ServiceWork{work("w1", 1, "s1", C)},
			wantBound: "s1", wantRecorded: "s1", wantOK: true},
		{name: "works of another service are ignored", works: []fleetv1alpha1.ServiceWork{other}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b := Read(ms, tc.works)
			g.Expect(b.Bound).To(Equal(tc.wantBound))
			g.Expect(b.Target).To(Equal(tc.wantTarget))
			d, ok := b.Recorded()
			g.Expect(ok).To(Equal(tc.wantOK))
			g.Expect(d.Cluster).To(Equal(tc.wantRecorded))
			if w := b.Providers[d.Cluster]; w != nil {
				g.Expect(d.Strategy).To(Equal(fleetv1alpha1.StrategyDedicated))
				g.Expect(d.DecidedAt.UTC().Format(time.RFC3339)).To(Equal(w.Annotations[fleetv1alpha1.AnnotationDecidedAt]))
			}
		})
	}
}

func TestRecordRoundTrip(t *testing.T) {
	g := NewWithT(t)
	at := metav1.NewTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	in := fleetv1alpha1.PlacementDecision{Cluster: "s1", Strategy: fleetv1alpha1.StrategyDedicated, Policy: "db", DecidedAt: &at}
	w := &fleetv1alpha1.ServiceWork{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{}}}
	RecordInto(&in, w.Annotations)
	out := fleetv1alpha1.PlacementDecision{Cluster: "s1"}
	RecordFrom(w, &out)
	g.Expect(out.Strategy).To(Equal(in.Strategy))
	g.Expect(out.Policy).To(Equal(in.Policy))
	g.Expect(out.DecidedAt.Equal(in.DecidedAt)).To(BeTrue())

	// Empty fields are left out.
	w.Annotations = map[string]string{}
	RecordInto(&fleetv1alpha1.PlacementDecision{Cluster: "s1"}, w.Annotations)
	g.Expect(w.Annotations).To(BeEmpty())
}
