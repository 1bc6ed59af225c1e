package binding

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// IndexServiceRef is the field index of ServiceWorks by
// spec.serviceRef: its value is ServiceKey(namespace, name).
const IndexServiceRef = "spec.serviceRef"

var (
	indexMu sync.Mutex
	indexed = map[client.FieldIndexer]bool{}
)

// RegisterIndex adds IndexServiceRef to indexer once, however many
// controllers of one manager ask for it.
func RegisterIndex(ctx context.Context, indexer client.FieldIndexer) error {
	indexMu.Lock()
	defer indexMu.Unlock()
	if indexed[indexer] {
		return nil
	}
	if err := indexer.IndexField(ctx, &fleetv1alpha1.ServiceWork{}, IndexServiceRef, func(o client.Object) []string {
		ref := o.(*fleetv1alpha1.ServiceWork).Spec.ServiceRef
		if ref.Name == "" {
			return nil
		}
		return []string{fleetv1alpha1.ServiceKey(ref.Namespace, ref.Name)}
	}); err != nil {
		return fmt.Errorf("indexing ServiceWorks by %s: %w", IndexServiceRef, err)
	}
	indexed[indexer] = true
	return nil
}

// List returns the ServiceWorks of ms, in every member namespace, through
// IndexServiceRef.
func List(ctx context.Context, c client.Reader, ms *fleetv1alpha1.ManagedService) ([]fleetv1alpha1.ServiceWork, error) {
	list := &fleetv1alpha1.ServiceWorkList{}
	if err := c.List(ctx, list, client.MatchingFields{IndexServiceRef: fleetv1alpha1.ServiceKey(ms.Namespace, ms.Name)}); err != nil {
		return nil, fmt.Errorf("listing ServiceWorks of %s/%s: %w", ms.Namespace, ms.Name, err)
	}
	return list.Items, nil
}

// Member is the member cluster whose hub namespace holds w.
func Member(w *fleetv1alpha1.ServiceWork) string {
	return strings.TrimPrefix(w.Namespace, fleetv1alpha1.MemberNamespacePrefix)
}

// HasRole reports whether w carries role r.
func HasRole(w *fleetv1alpha1.ServiceWork, r fleetv1alpha1.WorkRole) bool {
	return slices.Contains(w.Spec.Roles, r)
}

// Binding is what a service's live ServiceWorks record.
type Binding struct {
	// Consumer is the work with role Consumer in the consumer cluster's hub
	// namespace, not being deleted; nil when there is none.
	Consumer *fleetv1alpha1.ServiceWork
	// Providers maps each member to its work with role Provider that is not
	// being deleted.
	Providers map[string]*fleetv1alpha1.ServiceWork
	// Bound is the provider the consumer's apps use: the consumer work's
	// spec.provider.cluster; without a consumer work, the oldest provider
	// work's member; "" when there is neither.
	Bound string
	// Target is the move target: the newest provider work on a member other
	// than Bound; "" when no move is under way.
	Target string
}

// Read derives the binding of ms from its works.
func Read(ms *fleetv1alpha1.ManagedService, works []fleetv1alpha1.ServiceWork) Binding {
	b := Binding{Providers: map[string]*fleetv1alpha1.ServiceWork{}}
	consumerNS := fleetv1alpha1.MemberNamespace(ms.Spec.Consumer.Cluster)
	var providers []*fleetv1alpha1.ServiceWork
	for i := range works {
		w := &works[i]
		if !w.DeletionTimestamp.IsZero() || w.Spec.ServiceRef.Namespace != ms.Namespace || w.Spec.ServiceRef.Name != ms.Name {
			continue
		}
		if w.Namespace == consumerNS && HasRole(w, fleetv1alpha1.RoleConsumer) {
			b.Consumer = w
		}
		if HasRole(w, fleetv1alpha1.RoleProvider) {
			b.Providers[Member(w)] = w
			providers = append(providers, w)
		}
	}
	// Oldest first; ties by namespace, so the result is deterministic.
	slices.SortFunc(providers, func(a, c *fleetv1alpha1.ServiceWork) int {
		if n := a.CreationTimestamp.Compare(c.CreationTimestamp.Time); n != 0 {
			return n
		}
		return strings.Compare(a.Namespace, c.Namespace)
	})
	switch {
	case b.Consumer != nil && b.Consumer.Spec.Provider != nil && b.Consumer.Spec.Provider.Cluster != "":
		b.Bound = b.Consumer.Spec.Provider.Cluster
	case len(providers) > 0:
		b.Bound = Member(providers[0])
	}
	for i := len(providers) - 1; i >= 0; i-- {
		if m := Member(providers[i]); m != b.Bound {
			b.Target = m
			break
		}
	}
	return b
}

// Recorded is the placement decision the binding records: the move
// target's when a move is under way, else the bound provider's. ok is false
// when the service has no provider work and no consumer binding.
func (b Binding) Recorded() (d fleetv1alpha1.PlacementDecision, ok bool) {
	cluster := b.Target
	if cluster == "" {
		cluster = b.Bound
	}
	if cluster == "" {
		return d, false
	}
	d.Cluster = cluster
	if w := b.Providers[cluster]; w != nil {
		RecordFrom(w, &d)
	}
	return d, true
}

// RecordFrom copies the decision annotations of a provider work into d.
func RecordFrom(w *fleetv1alpha1.ServiceWork, d *fleetv1alpha1.PlacementDecision) {
	a := w.Annotations
	d.Strategy = fleetv1alpha1.Strategy(a[fleetv1alpha1.AnnotationPlacementStrategy])
	d.Policy = a[fleetv1alpha1.AnnotationPlacementPolicy]
	if t, err := time.Parse(time.RFC3339, a[fleetv1alpha1.AnnotationDecidedAt]); err == nil {
		mt := metav1.NewTime(t)
		d.DecidedAt = &mt
	}
}

// RecordInto sets the decision annotations of d on a provider work's
// annotations (empty fields are left out).
func RecordInto(d *fleetv1alpha1.PlacementDecision, annotations map[string]string) {
	if d.Strategy != "" {
		annotations[fleetv1alpha1.AnnotationPlacementStrategy] = string(d.Strategy)
	}
	if d.Policy != "" {
		annotations[fleetv1alpha1.AnnotationPlacementPolicy] = d.Policy
	}
	if d.DecidedAt != nil {
		annotations[fleetv1alpha1.AnnotationDecidedAt] = d.DecidedAt.UTC().Format(time.RFC3339)
	}
}
