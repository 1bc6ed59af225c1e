package work

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

func unitWork(engine fleetv1alpha1.Engine) *fleetv1alpha1.ServiceWork {
	return &fleetv1alpha1.ServiceWork{
		ObjectMeta: metav1.ObjectMeta{Namespace: "berth-member-a", Name: "shop.db"},
		Spec: fleetv1alpha1.ServiceWorkSpec{
			Roles:      []fleetv1alpha1.WorkRole{fleetv1alpha1.RoleProvider},
			ServiceRef: fleetv1alpha1.ServiceReference{Namespace: "shop", Name: "db", UID: "u1"},
			Service:    &fleetv1alpha1.ServiceTemplate{Engine: engine},
		},
	}
}

func entry(gvk schema.GroupVersionKind, ns, name string) Entry {
	return Entry{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: ns, Name: name, UID: types.UID(name)}
}

func TestRetainSet(t *testing.T) {
	w := unitWork(fleetv1alpha1.EnginePostgreSQL)
	pns := render.PlatformNamespace(w.Spec.ServiceRef)
	ns := entry(gvkNamespace, "", pns)
	pg := entry(render.GVKPostgresql, pns, "berth-db")
	sts := entry(gvkStatefulSet, pns, "db")
	generated := entry(gvkSecret, pns, "db-credentials")
	quota := entry(schema.GroupVersionKind{Version: "v1", Kind: "ResourceQuota"}, pns, "berth-quota")
	netpol := entry(schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}, pns, "berth-ingress")
	headless := entry(gvkService, pns, "db-headless")
	exposure := entry(gvkService, pns, "db-external")
	role := entry(gvkRole, pns, "berth-app-team-read")
	binding := entry(gvkService, "app", "db")
	bindingSecret := entry(gvkSecret, "app", "db-credentials")
	priority := Entry{Version: "v1", Group: "scheduling.k8s.io", Kind: "PriorityClass", Name: "berth-managed-service", Shared: true}
	testCases := []struct {
		name    string
		leaving []Entry
		want    []Entry
	}{
		{
			name:    "deletion of an operator flavour keeps the engine, the namespace and what fences the engine",
			leaving: []Entry{ns, pg, quota, netpol, exposure, role, binding, bindingSecret, priority},
			want:    []Entry{ns, pg, quota, netpol},
		},
		{
			name:    "deletion of the built-in flavour keeps the StatefulSet with its Services and credentials",
			leaving: []Entry{ns, sts, generated, headless, exposure, role, binding},
			want:    []Entry{ns, sts, generated, headless},
		},
		{
			name:    "a guard rail replaced while the engine stays is deleted",
			leaving: []Entry{netpol},
		},
		{
			name:    "the credentials are kept even when the engine stays",
			leaving: []Entry{generated, binding},
			want:    []Entry{generated},
		},
		{
			name:    "a consumer binding is never kept",
			leaving: []Entry{binding, bindingSecret},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := retainSet(w, tc.leaving)
			want := map[string]bool{}
			for _, e := range tc.want {
				want[e.Key()] = true
			}
			g.Expect(got).To(Equal(want))
		})
	}
}

func live(gvk schema.GroupVersionKind, ns, name string, uid types.UID, labels, annotations map[string]string) *unstructured.Unstructured {
	u := newObject(gvk)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetUID(uid)
	u.SetLabels(labels)
	u.SetAnnotations(annotations)
	return u
}

func TestClaimOf(t *testing.T) {
	w := unitWork(fleetv1alpha1.EngineRedis)
	ref := w.Spec.ServiceRef
	pns := render.PlatformNamespace(ref)
	ours := map[string]string{fleetv1alpha1.LabelServiceWork: render.WorkLabelValue(w)}
	retained := func(service, engine string) map[string]string {
		return map[string]string{render.AnnotationRetainedService: service, render.AnnotationRetainedEngine: engine, render.AnnotationRetainedBy: "x/y"}
	}
	retainedLabel := map[string]string{fleetv1alpha1.LabelRetained: "true"}
	recorded := &Entry{UID: "rec"}
	desiredSvc := live(gvkService, pns, "db", "", nil, nil)
	desiredNS := live(gvkNamespace, "", pns, "", nil, nil)
	shared := live(gvkPriorityClass, "", "berth-managed-service", "", map[string]string{render.LabelShared: "true"}, nil)
	controlled := live(gvkService, pns, "db", "other", ours, nil)
	controlled.SetOwnerReferences([]metav1.OwnerReference{{Kind: "RedisFailover", Name: "db", UID: "x", Controller: ptr.To(true)}})
	deleting := live(gvkNamespace, "", pns, "rec", ours, map[string]string{render.AnnotationServiceOwner: render.ServiceOwnerValue(ref)})
	deleting.SetDeletionTimestamp(&metav1.Time{Time: time.Unix(1700000000, 0)})
	testCases := []struct {
		name    string
		desired *unstructured.Unstructured
		live    *unstructured.Unstructured
		entry   *Entry
		want    claim
		reason  string
	}{
		{name: "recorded with the same UID", desired: desiredSvc, live: live(gvkService, pns, "db", "rec", nil, nil), entry: recorded, want: claimOwned},
		{name: "recorded, but recreated without the label", desired: desiredSvc, live: live(gvkService, pns, "db", "new", nil, nil), entry: recorded, want: claimConflict, reason: "not in this work's record"},
		{name: "a controller other than berth", desired: desiredSvc, live: controlled, entry: &Entry{UID: "other"}, want: claimConflict, reason: "controlled by RedisFailover db"},
		{name: "the work's label but not recorded", desired: desiredSvc, live: live(gvkService, pns, "db", "n", ours, nil), want: claimAdopt},
		{name: "retained for this service and engine", desired: desiredSvc, live: live(gvkService, pns, "db", "n", retainedLabel, retained("shop/db", "Redis")), want: claimReadopt},
		{name: "retained for another engine", desired: desiredSvc, live: live(gvkService, pns, "db", "n", retainedLabel, retained("shop/db", "PostgreSQL")), want: claimConflict, reason: "was retained for ManagedService shop/db (engine PostgreSQL)"},
		{name: "retained for another service", desired: desiredSvc, live: live(gvkService, pns, "db", "n", retainedLabel, retained("shop/other", "Redis")), want: claimConflict},
		{name: "someone else's", desired: desiredSvc, live: live(gvkService, pns, "db", "n", map[string]string{"app": "x"}, nil), want: claimConflict},
		{name: "the shared PriorityClass", desired: shared, live: live(gvkPriorityClass, "", "berth-managed-service", "n", map[string]string{render.LabelManagedBy: render.ManagedByBerth}, nil), want: claimAdopt},
		{name: "a namespace without owner", desired: desiredNS, live: live(gvkNamespace, "", pns, "n", ours, nil), want: claimConflict, reason: "was not created by berth for this service"},
		{name: "a namespace of another service", desired: desiredNS, live: live(gvkNamespace, "", pns, "n", nil, map[string]string{render.AnnotationServiceOwner: "shop/dbx/u2"}), want: claimConflict, reason: "belongs to ManagedService shop/dbx/u2"},
		{name: "a namespace of an older ManagedService of the same name", desired: desiredNS, live: live(gvkNamespace, "", pns, "n", nil, map[string]string{render.AnnotationServiceOwner: "shop/db/u0"}), want: claimConflict},
		{name: "this service's namespace, not recorded", desired: desiredNS, live: live(gvkNamespace, "", pns, "n", ours, map[string]string{render.AnnotationServiceOwner: render.ServiceOwnerValue(ref)}), want: claimAdopt},
		{name: "this service's namespace, recorded", desired: desiredNS, live: live(gvkNamespace, "", pns, "rec", nil, map[string]string{render.AnnotationServiceOwner: render.ServiceOwnerValue(ref)}), entry: recorded, want: claimOwned},
		{name: "a namespace retained for this service", desired: desiredNS, live: live(gvkNamespace, "", pns, "n", retainedLabel, map[string]string{render.AnnotationServiceOwner: "shop/db/u0", render.AnnotationRetainedService: "shop/db"}), want: claimReadopt},
		{name: "a namespace being deleted", desired: desiredNS, live: deleting, entry: recorded, want: claimConflict, reason: "is being deleted"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, reason := claimOf(w, tc.desired, tc.live, tc.entry)
			g.Expect(got).To(Equal(tc.want), reason)
			g.Expect(reason).To(ContainSubstring(tc.reason))
		})
	}
}

func TestFieldsHash(t *testing.T) {
	g := NewWithT(t)
	u := newObject(gvkService)
	g.Expect(fieldsHash(u)).To(BeEmpty())
	mf := func(manager string, op metav1.ManagedFieldsOperationType, sub, raw string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Subresource: sub, FieldsV1: metav1.NewFieldsV1(raw)}
	}
	u.SetManagedFields([]metav1.ManagedFieldsEntry{
		mf("kubectl", metav1.ManagedFieldsOperationUpdate, "", `{"f:metadata":{}}`),
		mf(render.FieldManager, metav1.ManagedFieldsOperationApply, "status", `{"f:status":{}}`),
		mf(render.FieldManager, metav1.ManagedFieldsOperationApply, "", `{"f:spec":{"f:ports":{}}}`),
	})
	h := fieldsHash(u)
	g.Expect(h).NotTo(BeEmpty())
	// Others' fields and status do not count.
	u.SetManagedFields(append(u.GetManagedFields()[2:], mf("mesh", metav1.ManagedFieldsOperationUpdate, "", `{"f:metadata":{"f:annotations":{}}}`)))
	g.Expect(fieldsHash(u)).To(Equal(h))
	// Losing a field to someone else does.
	u.SetManagedFields([]metav1.ManagedFieldsEntry{mf(render.FieldManager, metav1.ManagedFieldsOperationApply, "", `{"f:spec":{}}`)})
	g.Expect(fieldsHash(u)).NotTo(Equal(h))
}

func TestRecordEncoding(t *testing.T) {
	g := NewWithT(t)
	a := entry(gvkService, "b", "x")
	b := entry(gvkNamespace, "", "a")
	one, err := encodeEntries([]Entry{a, b})
	g.Expect(err).NotTo(HaveOccurred())
	two, err := encodeEntries([]Entry{b, a})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(one).To(Equal(two), "the order of applies does not change the record")
	empty, err := encodeEntries(nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(empty).To(Equal("[]"))
}

func TestRemovedMessage(t *testing.T) {
	g := NewWithT(t)
	prev := []fleetv1alpha1.ObjectResult{
		result(gvkStatefulSet, "p", "db", resultRetained, ""),
		result(gvkService, "app", "db", resultApplied, ""),
		result(gvkService, "app", "db2", resultConflict, "x"),
	}
	now := map[string]fleetv1alpha1.ObjectResult{objectKey(gvkService, "app", "db"): result(gvkService, "app", "db", resultDeleted, "")}
	merged := mergeResults(prev, now)
	g.Expect(merged).To(HaveLen(3))
	g.Expect(merged[1].Result).To(Equal(resultDeleted))
	g.Expect(removedMessage(merged)).To(Equal("Deleted 1 object(s); retained (label fleet.berth.io/retained=true): StatefulSet p/db; left untouched (not berth's): Service app/db2"))
	g.Expect(removedMessage(merged[1:2])).To(Equal("Deleted 1 object(s); nothing retained"))
}
