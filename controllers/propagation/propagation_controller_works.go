package propagation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/internal/binding"
	"github.com/berth-io/berth/controllers/internal/ssa"
)

// credentialsSuffix ends the name of the credentials Secrets the hub copies
// into a remote consumer's hub namespace: <namespace>.<name>.<provider>.credentials.
const credentialsSuffix = ".credentials"

// plan is what one reconcile does with a service's works.
type plan struct {
	// binding is what the live works record.
	binding binding.Binding
	// decided is the placement decision; "" when there is none, and then
	// nothing is written or deleted.
	decided string
	// bound is the provider the consumer uses once this reconcile's writes
	// are applied.
	bound string
	// move is set while the consumer uses another provider than decided.
	move *moveState
	// switched is true when this reconcile switches the consumer to the
	// move target.
	switched bool
	// desired are the works to write.
	desired []*fleetv1alpha1.ServiceWork
	// copies are the names of the credentials copies to keep.
	copies map[string]bool
	// superseded are the live works on members that are neither the bound
	// provider, the decision nor the consumer.
	superseded []*fleetv1alpha1.ServiceWork
	// leftovers are the members, other than bound, that still carry a
	// provider work (being deleted or not) after this reconcile.
	leftovers []string
	// settled is true when the consumer's spoke applied, at its work's
	// current generation, the binding to bound: only then is anything
	// removed.
	settled bool
	// moving is the Moving condition to write; nil keeps the current one.
	moving *metav1.Condition
	// removeAck asks to remove the spent accept-move annotation.
	removeAck bool
}

// decision is the cluster ms is placed on, or "" when it is not placed
// (status.placement.cluster empty or Placed not True).
func decision(ms *fleetv1alpha1.ManagedService) string {
	if !meta.IsStatusConditionTrue(ms.Status.Conditions, fleetv1alpha1.ConditionPlaced) {
		return ""
	}
	return ms.Status.Placement.Cluster
}

// plan derives the works ms needs from its decision and its binding, and
// copies the credentials a remote consumer needs.
func (r *Reconciler) plan(ctx context.Context, ms *fleetv1alpha1.ManagedService, works []fleetv1alpha1.ServiceWork) (*plan, error) {
	b := binding.Read(ms, works)
	p := &plan{binding: b, decided: decision(ms), bound: b.Bound, copies: map[string]bool{}}
	if p.decided == "" {
		return p, nil
	}
	consumer := ms.Spec.Consumer.Cluster
	if p.bound == "" {
		p.bound = p.decided // first placement: nothing to move
	}

	// Copy the credentials of the bound provider and, ahead of a switch, of
	// the move target.
	copies := map[string]string{}
	for _, m := range uniq(p.bound, p.decided) {
		w := b.Providers[m]
		if m == consumer || w == nil {
			continue
		}
		name, err := r.copyCredentials(ctx, ms, w)
		if err != nil {
			return nil, err
		}
		if name != "" {
			copies[m] = name
			p.copies[name] = true
		}
	}

	if p.bound != p.decided {
		p.move = &moveState{
			From: p.bound, To: p.decided,
			TargetWait: targetWait(ms, b.Providers[p.decided], consumer, copies[p.decided] != ""),
			Ack:        ms.Annotations[fleetv1alpha1.AnnotationAcceptMove],
		}
		if p.move.canSwitch() {
			p.switched = true
			p.bound = p.decided
		}
	}

	for _, m := range uniq(p.bound, p.decided, consumer) {
		var roles []fleetv1alpha1.WorkRole
		if m == p.bound || m == p.decided {
			roles = append(roles, fleetv1alpha1.RoleProvider)
		}
		if m == consumer {
			roles = append(roles, fleetv1alpha1.RoleConsumer)
		}
		w := newWork(ms, m, roles...)
		if m == p.decided {
			binding.RecordInto(&ms.Status.Placement, w.Annotations)
		} else if live := b.Providers[m]; live != nil && m == p.bound {
			// The old provider keeps the decision it was made under.
			for _, k := range []string{fleetv1alpha1.AnnotationPlacementStrategy, fleetv1alpha1.AnnotationPlacementPolicy, fleetv1alpha1.AnnotationDecidedAt} {
				if v, ok := live.Annotations[k]; ok {
					w.Annotations[k] = v
				}
			}
		}
		if m == consumer {
			w.Spec.Provider = &fleetv1alpha1.ProviderReference{Cluster: p.bound}
			if p.bound != consumer {
				if pw := b.Providers[p.bound]; pw != nil {
					w.Spec.Provider.Endpoint = pw.Status.Endpoint.DeepCopy()
				}
				w.Spec.Provider.CredentialsSecret = copies[p.bound]
			}
		}
		p.desired = append(p.desired, w)
	}

	keep := map[string]bool{p.bound: true, p.decided: true, consumer: true}
	for i := range works {
		w := &works[i]
		m := binding.Member(w)
		if w.DeletionTimestamp.IsZero() && !keep[m] {
			p.superseded = append(p.superseded, w)
		}
		if binding.HasRole(w, fleetv1alpha1.RoleProvider) && m != p.bound && m != p.decided && !slices.Contains(p.leftovers, m) {
			if m == consumer && !desiredHasRole(p.desired, m, fleetv1alpha1.RoleProvider) {
				continue // this reconcile drops the role
			}
			p.leftovers = append(p.leftovers, m)
		}
	}
	slices.Sort(p.leftovers)
	if c := b.Consumer; c != nil && c.Spec.Provider != nil && c.Spec.Provider.Cluster == p.bound {
		p.settled = c.Status.ObservedGeneration == c.Generation &&
			meta.IsStatusConditionTrue(c.Status.Conditions, fleetv1alpha1.ConditionApplied)
	}
	p.moving, p.removeAck = setMovingCondition(meta.FindStatusCondition(ms.Status.Conditions, fleetv1alpha1.ConditionMoving), moveSummary{
		Move:      p.move,
		Switched:  p.switched,
		Bound:     p.bound,
		Leftovers: p.leftovers,
		Settled:   p.settled,
		Ack:       ms.Annotations[fleetv1alpha1.AnnotationAcceptMove],

		DeletionPolicy: ms.Spec.DeletionPolicy,
	})
	return p, nil
}

// uniq returns the non-empty members in order, each once.
func uniq(members ...string) []string {
	var out []string
	for _, m := range members {
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func desiredHasRole(desired []*fleetv1alpha1.ServiceWork, member string, role fleetv1alpha1.WorkRole) bool {
	ns := fleetv1alpha1.MemberNamespace(member)
	return slices.ContainsFunc(desired, func(w *fleetv1alpha1.ServiceWork) bool {
		return w.Namespace == ns && binding.HasRole(w, role)
	})
}

// targetWait says what keeps the new provider w on member target from
// taking the consumers over; "" when nothing does.
func targetWait(ms *fleetv1alpha1.ManagedService, w *fleetv1alpha1.ServiceWork, consumer string, copied bool) string {
	if w == nil {
		return "the hub has not written its provider ServiceWork yet"
	}
	name := w.Namespace + "/" + w.Name
	target := binding.Member(w)
	switch {
	case !appliedAt(ms, w):
		return fmt.Sprintf("the spoke on %s has not applied ServiceWork %s at generation %d yet", target, name, ms.Generation)
	case !meta.IsStatusConditionTrue(w.Status.Conditions, fleetv1alpha1.ConditionAvailable):
		msg := fmt.Sprintf("ServiceWork %s is not Available", name)
		if c := meta.FindStatusCondition(w.Status.Conditions, fleetv1alpha1.ConditionAvailable); c != nil && c.Message != "" {
			msg += ": " + c.Message
		}
		return msg
	case target != consumer && w.Status.Endpoint == nil:
		return fmt.Sprintf("the spoke on %s has not reported the endpoint of ServiceWork %s", target, name)
	case target != consumer && !copied:
		return fmt.Sprintf("the spoke on %s has not published the credentials of ServiceWork %s", target, name)
	}
	return ""
}

func newWork(ms *fleetv1alpha1.ManagedService, member string, roles ...fleetv1alpha1.WorkRole) *fleetv1alpha1.ServiceWork {
	w := &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{
			Name:        fleetv1alpha1.ServiceKey(ms.Namespace, ms.Name),
			Namespace:   fleetv1alpha1.MemberNamespace(member),
			Finalizers:  []string{fleetv1alpha1.FinalizerWork},
			Annotations: map[string]string{},
			Labels: map[string]string{
				fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(ms.Namespace, ms.Name),
				fleetv1alpha1.LabelMember:         member,
			},
		},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles: roles,
			ServiceRef: fleetv1alpha1.ServiceReference{
				Namespace: ms.Namespace, Name: ms.Name, UID: string(ms.UID), Generation: ms.Generation,
			},
			Consumer: *ms.Spec.Consumer.DeepCopy(),
		},
	}
	// Consumers get the template too: the binding listens on the engine's
	// standard port.
	w.Spec.Service = &fleetv1alpha1.ServiceTemplate{
		Engine:         ms.Spec.Engine,
		Version:        ms.Spec.Version,
		Replicas:       ms.Spec.Replicas,
		Resources:      *ms.Spec.Resources.DeepCopy(),
		Storage:        *ms.Spec.Storage.DeepCopy(),
		NodePool:       ms.Spec.NodePool.DeepCopy(),
		DeletionPolicy: ms.Spec.DeletionPolicy,
	}
	return w
}

// applyWorks writes the desired works whose hash differs from the live
// ones'. A work being deleted is left alone: it comes back once its spoke
// finished removing it.
func (r *Reconciler) applyWorks(ctx context.Context, p *plan, works []fleetv1alpha1.ServiceWork) error {
	for _, w := range p.desired {
		live := findWork(works, w)
		if live != nil && !live.DeletionTimestamp.IsZero() {
			continue
		}
		u, err := ssa.ToUnstructured(w, r.Client.Scheme())
		if err != nil {
			return err
		}
		hash, err := hashObject(u.Object)
		if err != nil {
			return err
		}
		if live != nil && live.Annotations[fleetv1alpha1.AnnotationSpecHash] == hash &&
			controllerutil.ContainsFinalizer(live, fleetv1alpha1.FinalizerWork) {
			continue
		}
		w.Annotations[fleetv1alpha1.AnnotationSpecHash] = hash
		if err := ssa.Apply(ctx, r.Client, w, FieldOwner); err != nil {
			return err
		}
	}
	return nil
}

// hashObject is a short hash of an apply patch.
func hashObject(obj map[string]any) (string, error) {
	data, err := json.Marshal(obj) // map keys are sorted
	if err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:20], nil
}

func findWork(works []fleetv1alpha1.ServiceWork, want *fleetv1alpha1.ServiceWork) *fleetv1alpha1.ServiceWork {
	for i := range works {
		if works[i].Namespace == want.Namespace && works[i].Name == want.Name {
			return &works[i]
		}
	}
	return nil
}

// copyName is the name of the copy of provider's credentials.
func copyName(ms *fleetv1alpha1.ManagedService, provider string) string {
	return fleetv1alpha1.ServiceKey(ms.Namespace, ms.Name) + "." + provider + credentialsSuffix
}

// isCopy reports whether s is a credentials copy of ms made by the hub.
func isCopy(ms *fleetv1alpha1.ManagedService, s *corev1.Secret) bool {
	return strings.HasPrefix(s.Name, fleetv1alpha1.ServiceKey(ms.Namespace, ms.Name)+".") &&
		strings.HasSuffix(s.Name, credentialsSuffix)
}

// copyCredentials copies the Secret the provider spoke published into the
// consumer's hub namespace, when the copy differs, and returns the copy's
// name; "" while nothing is published.
func (r *Reconciler) copyCredentials(ctx context.Context, ms *fleetv1alpha1.ManagedService, provider *fleetv1alpha1.ServiceWork) (string, error) {
	name := provider.Status.CredentialsSecret
	if name == "" {
		return "", nil
	}
	src := &corev1.Secret{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: provider.Namespace, Name: name}, src); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil // not published yet; its creation triggers us
		}
		return "", fmt.Errorf("reading published credentials %s/%s: %w", provider.Namespace, name, err)
	}
	member := binding.Member(provider)
	dst := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      copyName(ms, member),
			Namespace: fleetv1alpha1.MemberNamespace(ms.Spec.Consumer.Cluster),
			Labels: map[string]string{
				fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(ms.Namespace, ms.Name),
				fleetv1alpha1.LabelMember:         member,
			},
		},
		Type: src.Type,
		Data: src.Data,
	}
	live := &corev1.Secret{}
	switch err := r.Client.Get(ctx, client.ObjectKeyFromObject(dst), live); {
	case err == nil && live.Type == dst.Type && equality.Semantic.DeepEqual(live.Data, dst.Data) &&
		maps.Equal(filterLabels(live.Labels, dst.Labels), dst.Labels):
		return dst.Name, nil
	case err != nil && !apierrors.IsNotFound(err):
		return "", fmt.Errorf("reading credentials copy %s: %w", client.ObjectKeyFromObject(dst), err)
	}
	if err := ssa.Apply(ctx, r.Client, dst, FieldOwner); err != nil {
		return "", err
	}
	return dst.Name, nil
}

// filterLabels keeps the labels of have whose keys want has.
func filterLabels(have, want map[string]string) map[string]string {
	out := map[string]string{}
	for k := range want {
		if v, ok := have[k]; ok {
			out[k] = v
		}
	}
	return out
}

// deleteCopies deletes the credentials copies of ms that match.
func (r *Reconciler) deleteCopies(ctx context.Context, ms *fleetv1alpha1.ManagedService, match func(*corev1.Secret) bool) error {
	list := &corev1.SecretList{}
	if err := r.Client.List(ctx, list, client.MatchingLabels{
		fleetv1alpha1.LabelManagedService: fleetv1alpha1.ServiceLabelValue(ms.Namespace, ms.Name),
	}); err != nil {
		return fmt.Errorf("listing copied credentials: %w", err)
	}
	for i := range list.Items {
		s := &list.Items[i]
		// Only copies; the Secrets provider spokes publish are theirs.
		if !isCopy(ms, s) || !s.DeletionTimestamp.IsZero() || !match(s) {
			continue
		}
		if err := r.Client.Delete(ctx, s); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting copied credentials %s: %w", client.ObjectKeyFromObject(s), err)
		}
	}
	return nil
}
