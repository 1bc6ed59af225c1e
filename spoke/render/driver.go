package render

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// driver renders and observes one engine in one flavour.
type driver interface {
	// operator is the operator the flavour needs; empty for built-in.
	operator() fleetv1alpha1.Operator
	// objects renders the engine's own objects in the platform namespace.
	objects(s *service) ([]*unstructured.Unstructured, error)
	// clientService is the Service and port co-located consumers use.
	clientService(s *service) (name string, port int32)
	// remoteTarget selects the pods a remote exposure forwards to, and the
	// port they serve on, which the exposure Service also uses.
	remoteTarget(s *service) (selector map[string]string, port int32)
	// podSelector selects every pod of the service.
	podSelector(s *service) map[string]string
	// clientPorts are the pod ports consumers may reach.
	clientPorts(s *service) []int32
	// operatorPDB is true when the operator creates its own
	// PodDisruptionBudgets; a second one covering the same pods would make
	// every eviction fail, so berth renders none.
	operatorPDB() bool
	// podGroups are the pods the service runs, for the quota.
	podGroups(s *service) []podGroup
	// generatesCredentials is true when berth generates the credentials
	// Secret (GeneratedSecretName) instead of the operator.
	generatesCredentials() bool
	// credentialsSecret is the provider-side Secret holding the credentials.
	credentialsSecret(s *service) string
	// connection extracts the user-facing credentials (no host or port)
	// from the credentials Secret's data.
	connection(s *service, data map[string][]byte) (map[string][]byte, error)
	// statusObjects are the objects the app team may read.
	statusObjects(s *service) []objectRef
	// status reads the engine's readiness from its live objects.
	status(ctx context.Context, s *service, g Getter) (Observed, error)
}

// objectRef names an object for a Role rule.
type objectRef struct {
	group, resource, name string
}

// driverFor returns the driver of an engine in a flavour.
func driverFor(engine fleetv1alpha1.Engine, f Flavour) (driver, error) {
	switch {
	case f == FlavourBuiltIn:
		return builtinDriver{engine: engine}, nil
	case engine == fleetv1alpha1.EnginePostgreSQL && f == FlavourZalando:
		return zalandoDriver{}, nil
	case engine == fleetv1alpha1.EngineRedis && f == FlavourSpotahome:
		return spotahomeDriver{}, nil
	case engine == fleetv1alpha1.EngineRabbitMQ && f == FlavourRabbitMQOperator:
		return rabbitmqDriver{}, nil
	}
	return nil, fmt.Errorf("inputs.flavour %q cannot run engine %s", f, engine)
}

// requireKeys returns the named keys of a Secret's data, or an error naming
// the first missing one.
func requireKeys(secret string, data map[string][]byte, keys ...string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, k := range keys {
		v, ok := data[k]
		if !ok || len(v) == 0 {
			return nil, fmt.Errorf("credentials Secret %s has no key %q", secret, k)
		}
		out[k] = v
	}
	return out, nil
}
