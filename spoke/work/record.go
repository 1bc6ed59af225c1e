package work

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// The record of a work is a ConfigMap in the spoke's system namespace of the
// member cluster, named after WorkLabelValue, in the manner of OCM's
// AppliedManifestWork: it lists every object the spoke applied for the work,
// with its UID. Only objects listed there, whose live UID still matches,
// are ever pruned, orphaned or deleted.
const (
	// LabelRecord marks the record ConfigMaps; its value is "true".
	LabelRecord = "fleet.berth.io/applied-record"
	// recordKeyObjects holds the JSON list of entries.
	recordKeyObjects = "objects"
	// recordKeyWork holds "<hub namespace>/<work name>".
	recordKeyWork = "work"
)

// Entry is one object the spoke applied for a work.
type Entry struct {
	// Group, Version and Kind of the object.
	Group   string `json:"group,omitempty"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	// Namespace is empty for cluster-scoped objects.
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
	// UID of the object the spoke created or adopted.
	UID types.UID `json:"uid"`
	// Hash of the desired content last applied; empty for create-only
	// objects, which are never updated.
	Hash string `json:"hash,omitempty"`
	// Fields is a hash of the fields the spoke's field manager owned right
	// after its last apply (see fieldsHash): when it differs from the live
	// object's, someone else changed the spoke's fields.
	Fields string `json:"fields,omitempty"`
	// Shared objects (the PriorityClass) are applied but never deleted.
	Shared bool `json:"shared,omitempty"`
}

// GVK is the entry's group, version and kind.
func (e Entry) GVK() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: e.Group, Version: e.Version, Kind: e.Kind}
}

// Key identifies the object of an entry, whatever its UID.
func (e Entry) Key() string {
	return objectKey(e.GVK(), e.Namespace, e.Name)
}

// String names the object for messages.
func (e Entry) String() string {
	if e.Namespace == "" {
		return e.Kind + " " + e.Name
	}
	return e.Kind + " " + e.Namespace + "/" + e.Name
}

func objectKey(gvk schema.GroupVersionKind, namespace, name string) string {
	return gvk.Group + "/" + gvk.Kind + "/" + namespace + "/" + name
}

func keyOf(o *unstructured.Unstructured) string {
	return objectKey(o.GroupVersionKind(), o.GetNamespace(), o.GetName())
}

// Record is the decoded record of one work.
type Record struct {
	// Work is "<hub namespace>/<work name>".
	Work string
	// Entries, sorted by key.
	Entries []Entry
	// cm is the live ConfigMap, nil before the first save.
	cm *corev1.ConfigMap
}

// RecordName is the name of a work's record ConfigMap: WorkLabelValue,
// which is a valid object name and unique per member.
func RecordName(w *fleetv1alpha1.ServiceWork) string { return render.WorkLabelValue(w) }

// find returns the entry with key k.
func (r *Record) find(k string) (Entry, bool) {
	for _, e := range r.Entries {
		if e.Key() == k {
			return e, true
		}
	}
	return Entry{}, false
}

// encode renders the entries as sorted JSON.
func encodeEntries(entries []Entry) (string, error) {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Key(), b.Key()) })
	if sorted == nil {
		sorted = []Entry{}
	}
	b, err := json.Marshal(sorted)
	if err != nil {
		return "", fmt.Errorf("encoding the record: %w", err)
	}
	return string(b), nil
}

// decodeRecord reads a record ConfigMap.
func decodeRecord(cm *corev1.ConfigMap) (*Record, error) {
	r := &Record{Work: cm.Data[recordKeyWork], cm: cm}
	if raw := cm.Data[recordKeyObjects]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &r.Entries); err != nil {
			return nil, fmt.Errorf("decoding record ConfigMap %s/%s key %q: %w", cm.Namespace, cm.Name, recordKeyObjects, err)
		}
	}
	return r, nil
}

// loadRecord reads the record of w through the member cache, falling back to
// a live read when the cache does not have it (so that a record is never
// mistaken for empty), and returns an empty record when there is none.
func (b *base) loadRecord(ctx context.Context, w *fleetv1alpha1.ServiceWork) (*Record, error) {
	key := client.ObjectKey{Namespace: b.SystemNamespace, Name: RecordName(w)}
	cm := &corev1.ConfigMap{}
	err := b.memberCache.Get(ctx, key, cm)
	if apierrors.IsNotFound(err) {
		err = b.MemberReader.Get(ctx, key, cm)
	}
	switch {
	case apierrors.IsNotFound(err):
		b.index.setRecord(client.ObjectKeyFromObject(w), nil)
		return &Record{Work: w.Namespace + "/" + w.Name}, nil
	case err != nil:
		return nil, fmt.Errorf("reading the record ConfigMap %s: %w", key, err)
	}
	rec, err := decodeRecord(cm)
	if err != nil {
		return nil, err
	}
	b.index.setRecord(client.ObjectKeyFromObject(w), rec.Entries)
	return rec, nil
}

// saveRecord writes entries as the record of w when they differ from what
// rec holds. Writes are optimistic: a concurrent change fails with a
// conflict and the work is reconciled again.
func (b *base) saveRecord(ctx context.Context, w *fleetv1alpha1.ServiceWork, rec *Record, entries []Entry) error {
	data, err := encodeEntries(entries)
	if err != nil {
		return err
	}
	b.index.setRecord(client.ObjectKeyFromObject(w), entries)
	if rec.cm != nil && rec.cm.Data[recordKeyObjects] == data && rec.cm.Data[recordKeyWork] == rec.Work {
		rec.Entries = entries
		return nil
	}
	if rec.cm == nil {
		if err := b.ensureSystemNamespace(ctx); err != nil {
			return err
		}
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: b.SystemNamespace, Name: RecordName(w),
				Labels: map[string]string{
					LabelRecord:                    "true",
					fleetv1alpha1.LabelServiceWork: render.WorkLabelValue(w),
					render.LabelManagedBy:          render.ManagedByBerth,
				},
			},
			Data: map[string]string{recordKeyObjects: data, recordKeyWork: rec.Work},
		}
		if err := b.Member.Create(ctx, cm); err != nil {
			return fmt.Errorf("creating the record ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
		}
		rec.cm, rec.Entries = cm, entries
		return nil
	}
	cm := rec.cm.DeepCopy()
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	cm.Data[recordKeyObjects], cm.Data[recordKeyWork] = data, rec.Work
	if err := b.Member.Update(ctx, cm); err != nil {
		return fmt.Errorf("updating the record ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	rec.cm, rec.Entries = cm, entries
	return nil
}

// deleteRecord removes the record of a work whose objects are all gone or
// retained.
func (b *base) deleteRecord(ctx context.Context, w *fleetv1alpha1.ServiceWork, rec *Record) error {
	b.index.setRecord(client.ObjectKeyFromObject(w), nil)
	if rec.cm == nil {
		return nil
	}
	uid := rec.cm.UID
	if err := b.Member.Delete(ctx, rec.cm, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting the record ConfigMap %s/%s: %w", rec.cm.Namespace, rec.cm.Name, err)
	}
	rec.cm = nil
	return nil
}

// ensureSystemNamespace creates the system namespace when it is missing.
func (b *base) ensureSystemNamespace(ctx context.Context) error {
	b.nsOnce.Lock()
	defer b.nsOnce.Unlock()
	if b.nsReady {
		return nil
	}
	ns := &corev1.Namespace{}
	err := b.MemberReader.Get(ctx, client.ObjectKey{Name: b.SystemNamespace}, ns)
	if apierrors.IsNotFound(err) {
		ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: b.SystemNamespace}}
		err = b.Member.Create(ctx, ns)
		if apierrors.IsAlreadyExists(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("ensuring the system namespace %s: %w", b.SystemNamespace, err)
	}
	b.nsReady = true
	return nil
}

// contentHash is a short hash of an object's desired content: the JSON of
// its map, whose keys encoding/json sorts.
func contentHash(o *unstructured.Unstructured) (string, error) {
	b, err := json.Marshal(o.Object)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", describe(o), err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12]), nil
}

// fieldsHash is a short hash of the fields the spoke's field manager owns on
// live through server-side apply (managedFields, operation Apply, main
// resource). Only the spoke's own apply and someone else taking over or
// removing one of those fields change it; status updates, other managers'
// fields and resyncs do not. Empty when the spoke owns nothing there.
func fieldsHash(live *unstructured.Unstructured) string {
	for _, mf := range live.GetManagedFields() {
		if mf.Manager != render.FieldManager || mf.Operation != metav1.ManagedFieldsOperationApply || mf.Subresource != "" || mf.FieldsV1 == nil {
			continue
		}
		sum := sha256.Sum256(mf.FieldsV1.GetRawBytes())
		return hex.EncodeToString(sum[:12])
	}
	return ""
}
