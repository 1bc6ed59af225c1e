package work

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// ApplyReconciler renders a ServiceWork, applies what differs from its
// record, prunes what it no longer renders, and reports Applied, Conflict,
// status.objects and observedGeneration. Works being deleted are the
// FinalizeReconciler's.
type ApplyReconciler struct {
	*base
}

// Reconcile applies one ServiceWork.
func (r *ApplyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	w := &fleetv1alpha1.ServiceWork{}
	if err := r.Hub.Get(ctx, req.NamespacedName, w); err != nil {
		// A work missing from the cache is never a reason to delete.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	defer r.lockWork(req.NamespacedName)()
	r.watches.ensure(ctx, r.Capabilities())
	rec, err := r.loadRecord(ctx, w)
	if err != nil {
		return ctrl.Result{}, err
	}
	in, err := r.inputs(ctx, w)
	if err != nil {
		return ctrl.Result{}, err
	}
	// Connection data found now feeds the binding rendered below.
	_, conn, err := r.observe(ctx, w, in)
	if err != nil {
		log.Error(err, "Observing the service failed")
	}
	in.Connection = conn

	st := w.Status.DeepCopy()
	res, err := render.Render(in)
	if err != nil {
		setCondition(w, st, fleetv1alpha1.ConditionApplied, metav1.ConditionFalse, fleetv1alpha1.ReasonApplyFailed, err.Error())
		if werr := r.writeStatus(ctx, w, st); werr != nil {
			return r.statusResult(werr)
		}
		return ctrl.Result{}, reconcile.TerminalError(fmt.Errorf("rendering: %w", err))
	}

	p := &applyPass{b: r.base, w: w, rec: rec, now: time.Now()}
	// Nothing is applied into a namespace that belongs to someone else.
	for _, o := range res.Objects {
		if o.GetKind() != "Namespace" || o.GroupVersionKind().Group != "" {
			continue
		}
		reason, err := p.checkNamespace(ctx, o)
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("checking namespace %s: %w", o.GetName(), err)
		}
		if reason != "" {
			setCondition(w, st, fleetv1alpha1.ConditionApplied, metav1.ConditionFalse, fleetv1alpha1.ReasonNamespaceConflict, reason+"; nothing was applied")
			setCondition(w, st, fleetv1alpha1.ConditionConflict, metav1.ConditionTrue, fleetv1alpha1.ReasonNamespaceConflict, reason)
			st.Objects = []fleetv1alpha1.ObjectResult{objectResult(o, resultConflict, reason)}
			if err := r.writeStatus(ctx, w, st); err != nil {
				return r.statusResult(err)
			}
			return ctrl.Result{RequeueAfter: r.resync()}, nil
		}
	}

	for _, o := range res.Objects {
		p.apply(ctx, o)
	}
	// While the binding waits for credentials its Secrets are not rendered;
	// keep the ones that exist rather than take them from running apps.
	p.prune(ctx, res.Objects, len(res.Pending) > 0)
	if err := r.saveRecord(ctx, w, rec, p.entries); err != nil {
		p.failed = append(p.failed, err.Error())
	}
	if p.applies > 0 {
		log.V(1).Info("Applied", "writes", p.applies)
	}

	st.Objects = p.results
	setConflictCondition(w, st, p.conflicts)
	setAppliedCondition(w, st, p.conflicts, p.failed, res.Pending)
	if len(p.failed) == 0 && len(p.conflicts) == 0 {
		// observedGeneration only moves on success.
		st.ObservedGeneration = w.Generation
	}
	if err := r.writeStatus(ctx, w, st); err != nil {
		return r.statusResult(err)
	}
	if len(p.failed) > 0 {
		return ctrl.Result{}, fmt.Errorf("applying ServiceWork %s: %d object(s) failed", req.NamespacedName, len(p.failed))
	}
	return ctrl.Result{RequeueAfter: r.resync()}, nil
}

// statusResult turns a status write error into a result: a conflict with a
// concurrent change is retried soon, quietly.
func (b *base) statusResult(err error) (ctrl.Result, error) {
	if errors.Is(err, errStatusConflict) {
		return ctrl.Result{RequeueAfter: 200 * time.Millisecond}, nil
	}
	return ctrl.Result{}, err
}
