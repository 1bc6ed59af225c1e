package render

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// ClientGetter is a Getter reading through a controller-runtime client or
// cache.
type ClientGetter struct {
	// Reader reads the objects.
	Reader client.Reader
}

// Get reads one object as unstructured.
func (c ClientGetter) Get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := c.Reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, u); err != nil {
		return nil, err
	}
	return u, nil
}

// getOptional reads an object, returning nil without error when it does not
// exist.
func getOptional(ctx context.Context, g Getter, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	u, err := g.Get(ctx, gvk, namespace, name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, namespace, name, err)
	}
	return u, nil
}

// notFound is the observation for a missing primary object.
func notFound(err error, kind, namespace, name string) (Observed, error) {
	if err != nil {
		return Observed{}, err
	}
	return Observed{Message: fmt.Sprintf("%s %s/%s does not exist yet", kind, namespace, name)}, nil
}

// nestedInt32 reads an integer field, 0 when absent.
func nestedInt32(u *unstructured.Unstructured, fields ...string) int32 {
	v, _, _ := unstructured.NestedInt64(u.Object, fields...)
	return int32(v)
}

// workloadReady checks that a StatefulSet or Deployment observed its current
// generation and has want ready replicas.
func workloadReady(ctx context.Context, g Getter, gvk schema.GroupVersionKind, namespace, name string, want int64) (bool, string, int32, error) {
	u, err := getOptional(ctx, g, gvk, namespace, name)
	if err != nil {
		return false, "", 0, err
	}
	if u == nil {
		return false, fmt.Sprintf("%s %s/%s does not exist yet", gvk.Kind, namespace, name), 0, nil
	}
	ready := nestedInt32(u, "status", "readyReplicas")
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if observed < u.GetGeneration() {
		return false, fmt.Sprintf("%s %s has not observed generation %d yet", gvk.Kind, name, u.GetGeneration()), ready, nil
	}
	if int64(ready) < want {
		return false, fmt.Sprintf("%s %s has %d of %d replicas ready", gvk.Kind, name, ready, want), ready, nil
	}
	return true, "", ready, nil
}

// joinMessages joins the non-empty messages.
func joinMessages(msgs ...string) string {
	var out []string
	for _, m := range msgs {
		if m != "" {
			out = append(out, m)
		}
	}
	return strings.Join(out, "; ")
}

// ProviderStatus reads the state of a provider's service from its live
// objects: readiness and ready replicas from the engine, the credentials
// Secret, and the endpoint reachable from the consumer cluster. For a
// co-located consumer the endpoint is the engine's in-cluster Service; for a
// remote one it is the exposure's address, and the service is not Ready
// before that address is known.
func ProviderStatus(ctx context.Context, in Inputs, g Getter) (Observed, error) {
	s, err := newService(&in)
	if err != nil {
		return Observed{}, err
	}
	if !s.provider {
		return Observed{}, fmt.Errorf("spec.roles: ProviderStatus needs role Provider")
	}
	obs, err := s.driver.status(ctx, s, g)
	if err != nil {
		return Observed{}, err
	}
	obs.CredentialsSecret = types.NamespacedName{Namespace: s.namespace, Name: s.driver.credentialsSecret(s)}
	if s.colocated {
		name, port := s.driver.clientService(s)
		obs.Endpoint = &fleetv1alpha1.Endpoint{Host: s.serviceHost(name, s.namespace), Port: port, SecretName: BindingSecretName(s.ref)}
		return obs, nil
	}
	ep, msg, err := s.exposureEndpoint(ctx, g)
	if err != nil {
		return Observed{}, err
	}
	obs.Endpoint = ep
	if ep == nil {
		obs.Ready = false
		obs.Message = joinMessages(obs.Message, msg)
	}
	return obs, nil
}

// BindingStatus reports whether the consumer binding exists: the Service
// and the credentials Secret in every consumer namespace.
func BindingStatus(ctx context.Context, in Inputs, g Getter) (bool, string, error) {
	s, err := newService(&in)
	if err != nil {
		return false, "", err
	}
	if !s.consumer {
		return false, "", fmt.Errorf("spec.roles: BindingStatus needs role Consumer")
	}
	var missing []string
	for _, ns := range s.work.Spec.Consumer.Namespaces {
		for _, o := range []struct {
			gvk  schema.GroupVersionKind
			name string
		}{{gvkService, BindingServiceName(s.ref)}, {gvkSecret, BindingSecretName(s.ref)}} {
			u, err := getOptional(ctx, g, o.gvk, ns, o.name)
			if err != nil {
				return false, "", err
			}
			if u == nil {
				missing = append(missing, fmt.Sprintf("%s %s/%s", o.gvk.Kind, ns, o.name))
			}
		}
	}
	if len(missing) > 0 {
		return false, "binding missing: " + strings.Join(missing, ", "), nil
	}
	return true, "", nil
}
