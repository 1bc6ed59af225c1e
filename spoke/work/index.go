package work

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// indexes map member objects and hub Secrets back to works. They live in
// memory, filled by the reconcilers from the records and works they read
// (every work is reconciled when the spoke starts), so that wiring the
// controllers contacts no apiserver: a spoke starts while the hub is down.
type indexes struct {
	mu sync.RWMutex
	// objects maps an object's key to the works whose records hold it.
	objects map[string]map[types.NamespacedName]Entry
	// recorded is the keys each work's record holds.
	recorded map[types.NamespacedName][]string
	// labels maps a WorkLabelValue to its work.
	labels map[string]types.NamespacedName
	// secrets maps a hub Secret to the consumer works binding from it.
	secrets map[string]map[types.NamespacedName]bool
}

func newIndexes() *indexes {
	return &indexes{
		objects:  map[string]map[types.NamespacedName]Entry{},
		recorded: map[types.NamespacedName][]string{},
		labels:   map[string]types.NamespacedName{},
		secrets:  map[string]map[types.NamespacedName]bool{},
	}
}

// setRecord replaces the entries of work's record.
func (x *indexes) setRecord(work types.NamespacedName, entries []Entry) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, k := range x.recorded[work] {
		delete(x.objects[k], work)
		if len(x.objects[k]) == 0 {
			delete(x.objects, k)
		}
	}
	keys := make([]string, 0, len(entries))
	for _, e := range entries {
		k := e.Key()
		if x.objects[k] == nil {
			x.objects[k] = map[types.NamespacedName]Entry{}
		}
		x.objects[k][work] = e
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		delete(x.recorded, work)
		return
	}
	x.recorded[work] = keys
}

// recordedBy returns the entries for key and their works.
func (x *indexes) recordedBy(key string) ([]Entry, []reconcile.Request) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var entries []Entry
	var reqs []reconcile.Request
	for work, e := range x.objects[key] {
		entries = append(entries, e)
		reqs = append(reqs, reconcile.Request{NamespacedName: work})
	}
	return entries, reqs
}

// setLabel notes the WorkLabelValue of a work.
func (x *indexes) setLabel(value string, work types.NamespacedName) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.labels[value] = work
}

// work returns the work of a WorkLabelValue.
func (x *indexes) work(value string) (types.NamespacedName, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	w, ok := x.labels[value]
	return w, ok
}

// setSecret notes that work binds from hub Secret name.
func (x *indexes) setSecret(name string, work types.NamespacedName) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.secrets[name] == nil {
		x.secrets[name] = map[types.NamespacedName]bool{}
	}
	x.secrets[name][work] = true
}

// secretUsers returns the works binding from hub Secret name.
func (x *indexes) secretUsers(name string) []reconcile.Request {
	x.mu.RLock()
	defer x.mu.RUnlock()
	reqs := make([]reconcile.Request, 0, len(x.secrets[name]))
	for w := range x.secrets[name] {
		reqs = append(reqs, reconcile.Request{NamespacedName: w})
	}
	return reqs
}
