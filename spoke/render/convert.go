package render

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// Kinds of the operator custom resources, which berth writes as
// unstructured objects instead of importing the operators' Go modules.
var (
	// GVKPostgresql is Zalando's `postgresql`.
	GVKPostgresql = schema.GroupVersionKind{Group: "acid.zalan.do", Version: "v1", Kind: "postgresql"}
	// GVKRedisFailover is Spotahome's `RedisFailover`.
	GVKRedisFailover = schema.GroupVersionKind{Group: "databases.spotahome.com", Version: "v1", Kind: "RedisFailover"}
	// GVKRabbitmqCluster is the RabbitMQ cluster-operator's `RabbitmqCluster`.
	GVKRabbitmqCluster = schema.GroupVersionKind{Group: "rabbitmq.com", Version: "v1beta1", Kind: "RabbitmqCluster"}
	// GVKCiliumNetworkPolicy is Cilium's `CiliumNetworkPolicy`.
	GVKCiliumNetworkPolicy = schema.GroupVersionKind{Group: "cilium.io", Version: "v2", Kind: "CiliumNetworkPolicy"}

	gvkStatefulSet = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}
	gvkDeployment  = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	gvkService     = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	gvkSecret      = schema.GroupVersionKind{Version: "v1", Kind: "Secret"}
)

// toUnstructured converts a built-in typed object to an unstructured one
// with its apiVersion and kind set, dropping status, null values and the
// zero creationTimestamps the converter emits, so the apply patch only holds
// fields berth means to own.
func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	gvk, err := apiutil.GVKForObject(obj, clientgoscheme.Scheme)
	if err != nil {
		return nil, fmt.Errorf("finding the kind of %T: %w", obj, err)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	delete(m, "status")
	pruneNulls(m)
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// pruneNulls removes null values from nested maps and lists, and the empty
// status the converter adds to embedded PersistentVolumeClaims.
func pruneNulls(v interface{}) {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			if k == "status" {
				if m, ok := e.(map[string]interface{}); ok && len(m) == 0 {
					delete(t, k)
					continue
				}
			}
			pruneNulls(e)
		}
	case []interface{}:
		for _, e := range t {
			pruneNulls(e)
		}
	}
}

// newUnstructured returns an object of the given kind with metadata.
func newUnstructured(gvk schema.GroupVersionKind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{}}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// toJSONValue converts a typed value (tolerations, affinity, resources) to
// the JSON-compatible form unstructured objects hold.
func toJSONValue(v interface{}) (interface{}, error) {
	wrapped, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&struct {
		V interface{} `json:"v"`
	}{V: v})
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", v, err)
	}
	pruneNulls(wrapped)
	return wrapped["v"], nil
}

// tolerationsValue converts tolerations for an unstructured spec.
func tolerationsValue(tols []corev1.Toleration) ([]interface{}, error) {
	if len(tols) == 0 {
		return nil, nil
	}
	v, err := toJSONValue(tols)
	if err != nil {
		return nil, err
	}
	return v.([]interface{}), nil
}

// stringMap converts a string map for an unstructured object.
func stringMap(m map[string]string) map[string]interface{} {
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// nodeAffinityFor turns a nodeSelector into a required node affinity, for
// CRDs that only take affinity.
func nodeAffinityFor(sel map[string]string) *corev1.NodeAffinity {
	if len(sel) == 0 {
		return nil
	}
	var exprs []corev1.NodeSelectorRequirement
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		exprs = append(exprs, corev1.NodeSelectorRequirement{
			Key: k, Operator: corev1.NodeSelectorOpIn, Values: []string{sel[k]},
		})
	}
	return &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: exprs}},
		},
	}
}
