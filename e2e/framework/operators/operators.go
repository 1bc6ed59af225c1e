package operators

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Operator names one of the three database operators; the values are
// berth's own (fleetv1alpha1.Operator).
type Operator = fleetv1alpha1.Operator

// The operators this package installs and emulates.
const (
	// Zalando is zalando/postgres-operator and its `postgresql`.
	Zalando = fleetv1alpha1.OperatorZalandoPostgres
	// Spotahome is spotahome/redis-operator and its `RedisFailover`.
	Spotahome = fleetv1alpha1.OperatorSpotahomeRedis
	// RabbitMQ is rabbitmq/cluster-operator and its `RabbitmqCluster`.
	RabbitMQ = fleetv1alpha1.OperatorRabbitMQ
)

// All returns the three operators, in a fixed order.
func All() []Operator { return []Operator{Zalando, Spotahome, RabbitMQ} }

// The kinds of the operators' resources.
var (
	GVKPostgresql      = schema.GroupVersionKind{Group: "acid.zalan.do", Version: "v1", Kind: "postgresql"}
	GVKRedisFailover   = schema.GroupVersionKind{Group: "databases.spotahome.com", Version: "v1", Kind: "RedisFailover"}
	GVKRabbitmqCluster = schema.GroupVersionKind{Group: "rabbitmq.com", Version: "v1beta1", Kind: "RabbitmqCluster"}
)

// Installation says where and as whom an operator runs in a member, as its
// official manifests install it: a namespace, a ServiceAccount bound by a
// ClusterRoleBinding to a ClusterRole that grants write verbs on the CRD's
// group, and a Deployment running under that ServiceAccount.
type Installation struct {
	// Operator installed.
	Operator Operator
	// GVK of the operator's resource.
	GVK schema.GroupVersionKind
	// Resource is the plural of the resource, e.g. postgresqls.
	Resource string
	// CRDFile is the file under crds/ holding its CRD.
	CRDFile string
	// Namespace the operator runs in.
	Namespace string
	// ServiceAccount the operator's Deployment runs under.
	ServiceAccount string
	// ClusterRole granting the operator its permissions.
	ClusterRole string
	// ClusterRoleBinding binding ClusterRole to ServiceAccount.
	ClusterRoleBinding string
	// Deployment running the operator (on kwok nodes it never runs code;
	// the emulator does the work as ServiceAccount).
	Deployment string
	// Image of the Deployment's container, the operator's release image.
	Image string
}

// Username is the Kubernetes user name of the operator's ServiceAccount,
// which the emulator impersonates.
func (i Installation) Username() string {
	return fmt.Sprintf("system:serviceaccount:%s:%s", i.Namespace, i.ServiceAccount)
}

// installations are the three operators' installs.
//
//   - Zalando: the Helm chart charts/postgres-operator (release
//     postgres-operator) names the ServiceAccount, ClusterRole,
//     ClusterRoleBinding and Deployment postgres-operator
//     (templates/clusterrolebinding.yaml, deployment.yaml); its
//     manifests/operator-service-account-rbac.yaml put them in `default`,
//     which would mix the operator with the cluster's workloads, so it runs
//     in the namespace postgres-operator, as `helm install -n
//     postgres-operator` does.
//   - Spotahome: example/operator/all-redis-operator-resources.yaml names
//     everything redisoperator; the chart charts/redisoperator installs it
//     as release redis-operator into its release namespace, here
//     redis-operator.
//   - RabbitMQ: config/installation/kustomization.yaml installs into
//     rabbitmq-system with the name prefix rabbitmq-cluster- (Deployment and
//     ServiceAccount rabbitmq-cluster-operator, ClusterRole
//     rabbitmq-cluster-operator-role, ClusterRoleBinding
//     rabbitmq-cluster-operator-rolebinding), as the released
//     cluster-operator.yml does.
var installations = map[Operator]Installation{
	Zalando: {
		Operator: Zalando, GVK: GVKPostgresql, Resource: "postgresqls", CRDFile: "acid.zalan.do_postgresqls.yaml",
		Namespace: "postgres-operator", ServiceAccount: "postgres-operator", ClusterRole: "postgres-operator",
		ClusterRoleBinding: "postgres-operator", Deployment: "postgres-operator",
		Image: "ghcr.io/zalando/postgres-operator:v1.14.0",
	},
	Spotahome: {
		Operator: Spotahome, GVK: GVKRedisFailover, Resource: "redisfailovers", CRDFile: "databases.spotahome.com_redisfailovers.yaml",
		Namespace: "redis-operator", ServiceAccount: "redis-operator", ClusterRole: "redis-operator",
		ClusterRoleBinding: "redis-operator", Deployment: "redis-operator",
		Image: "quay.io/spotahome/redis-operator:v1.2.4",
	},
	RabbitMQ: {
		Operator: RabbitMQ, GVK: GVKRabbitmqCluster, Resource: "rabbitmqclusters", CRDFile: "rabbitmq.com_rabbitmqclusters.yaml",
		Namespace: "rabbitmq-system", ServiceAccount: "rabbitmq-cluster-operator", ClusterRole: "rabbitmq-cluster-operator-role",
		ClusterRoleBinding: "rabbitmq-cluster-operator-rolebinding", Deployment: "rabbitmq-cluster-operator",
		Image: "docker.io/rabbitmqoperator/cluster-operator:2.16.0",
	},
}

// InstallationOf returns where op is installed, or an error for an unknown
// operator.
func InstallationOf(op Operator) (Installation, error) {
	in, ok := installations[op]
	if !ok {
		return Installation{}, fmt.Errorf("unknown operator %q (known: %v)", op, All())
	}
	return in, nil
}

// checkOperators rejects unknown and repeated operators.
func checkOperators(ops []Operator) error {
	for i, op := range ops {
		if _, err := InstallationOf(op); err != nil {
			return err
		}
		if slices.Contains(ops[:i], op) {
			return fmt.Errorf("operator %q is listed twice", op)
		}
	}
	return nil
}
