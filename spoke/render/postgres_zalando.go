package render

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Zalando postgresql states, in status.PostgresClusterStatus.
const (
	ZalandoRunning      = "Running"
	ZalandoCreating     = "Creating"
	ZalandoUpdating     = "Updating"
	ZalandoSyncing      = "Syncing"
	ZalandoCreateFailed = "CreateFailed"
	ZalandoUpdateFailed = "UpdateFailed"
	ZalandoSyncFailed   = "SyncFailed"
	ZalandoInvalid      = "Invalid"
	ZalandoTerminating  = "Terminating"
)

// zalandoDriver renders PostgreSQL as a Zalando `postgresql`. The cluster is
// named "<teamId>-<managedservice>" because the operator requires the name
// to start with the teamId and a dash; the operator names the master Service
// and the StatefulSet after the cluster.
type zalandoDriver struct{}

func (zalandoDriver) operator() fleetv1alpha1.Operator { return fleetv1alpha1.OperatorZalandoPostgres }

// zalandoClusterName is the postgresql's name.
func zalandoClusterName(s *service) string { return zalandoTeamID + "-" + s.name }

func (zalandoDriver) objects(s *service) ([]*unstructured.Unstructured, error) {
	name := zalandoClusterName(s)
	req, lim := s.resources.Requests, s.resources.Limits
	spec := map[string]interface{}{
		"teamId":            zalandoTeamID,
		"numberOfInstances": s.replicas(),
		"postgresql":        map[string]interface{}{"version": s.tmpl.Version},
		"volume":            map[string]interface{}{"size": bytesString(s.tmpl.Storage.Size)},
		"resources": map[string]interface{}{
			"requests": map[string]interface{}{
				"cpu": cpuString(req[corev1.ResourceCPU]), "memory": bytesString(req[corev1.ResourceMemory]),
			},
			"limits": map[string]interface{}{
				"cpu": cpuString(lim[corev1.ResourceCPU]), "memory": bytesString(lim[corev1.ResourceMemory]),
			},
		},
		"users":                     map[string]interface{}{appUser: []interface{}{"createdb"}},
		"databases":                 map[string]interface{}{appDatabase: appUser},
		"enableLogicalBackup":       s.work.Annotations[AnnotationLogicalBackup] == "true",
		"enableMasterLoadBalancer":  false,
		"enableReplicaLoadBalancer": false,
		"podPriorityClassName":      PriorityClassName,
	}
	if s.tmpl.Storage.StorageClassName != "" {
		spec["volume"].(map[string]interface{})["storageClass"] = s.tmpl.Storage.StorageClassName
	}
	tols, err := tolerationsValue(s.tolerations())
	if err != nil {
		return nil, err
	}
	if tols != nil {
		spec["tolerations"] = tols
	}
	// The postgresql CRD has no nodeSelector; a required node affinity
	// expresses the same constraint.
	if na := nodeAffinityFor(s.nodeSelector()); na != nil {
		v, err := toJSONValue(na)
		if err != nil {
			return nil, err
		}
		spec["nodeAffinity"] = v
	}
	u := newUnstructured(GVKPostgresql, s.namespace, name)
	u.Object["spec"] = spec
	return []*unstructured.Unstructured{u}, nil
}

func (zalandoDriver) clientService(s *service) (string, int32) { return zalandoClusterName(s), 5432 }

func (zalandoDriver) remoteTarget(s *service) (map[string]string, int32) {
	sel := zalandoDriver{}.podSelector(s)
	sel["spilo-role"] = "master"
	return sel, 5432
}

func (zalandoDriver) podSelector(s *service) map[string]string {
	return map[string]string{"application": "spilo", "cluster-name": zalandoClusterName(s)}
}

func (zalandoDriver) clientPorts(*service) []int32 { return []int32{5432} }

// operatorPDB: the operator keeps a PodDisruptionBudget for the master.
func (zalandoDriver) operatorPDB() bool { return true }

func (zalandoDriver) podGroups(s *service) []podGroup {
	return []podGroup{{
		name: "postgres", count: s.replicas(), pvcs: 1, storage: s.tmpl.Storage.Size,
		resources: podResources([]corev1.ResourceRequirements{s.resources}, nil),
	}}
}

func (zalandoDriver) generatesCredentials() bool { return false }

// credentialsSecret follows the operator's default secret name template
// {username}.{cluster}.credentials.{tprkind}.{tprgroup}.
func (zalandoDriver) credentialsSecret(s *service) string {
	return appUser + "." + zalandoClusterName(s) + ".credentials.postgresql.acid.zalan.do"
}

func (d zalandoDriver) connection(s *service, data map[string][]byte) (map[string][]byte, error) {
	out, err := requireKeys(d.credentialsSecret(s), data, "username", "password")
	if err != nil {
		return nil, err
	}
	return map[string][]byte{KeyUsername: out["username"], KeyPassword: out["password"], KeyDatabase: []byte(appDatabase)}, nil
}

func (d zalandoDriver) statusObjects(s *service) []objectRef {
	return []objectRef{
		{"acid.zalan.do", "postgresqls", zalandoClusterName(s)},
		{"apps", "statefulsets", zalandoClusterName(s)},
	}
}

// status maps status.PostgresClusterStatus: only Running is ready; every
// other state, including the empty one of a cluster the operator has not
// picked up, is not ready with a message saying why. Ready replicas come
// from the operator's StatefulSet.
func (zalandoDriver) status(ctx context.Context, s *service, g Getter) (Observed, error) {
	name := zalandoClusterName(s)
	pg, err := getOptional(ctx, g, GVKPostgresql, s.namespace, name)
	if err != nil || pg == nil {
		return notFound(err, "postgresql", s.namespace, name)
	}
	state, _, _ := unstructured.NestedString(pg.Object, "status", "PostgresClusterStatus")
	obs := Observed{}
	if sts, err := getOptional(ctx, g, gvkStatefulSet, s.namespace, name); err != nil {
		return obs, err
	} else if sts != nil {
		obs.ReadyReplicas = nestedInt32(sts, "status", "readyReplicas")
	}
	obs.Ready, obs.Message = zalandoState(state)
	return obs, nil
}

// zalandoState maps a PostgresClusterStatus to readiness and a message.
func zalandoState(state string) (bool, string) {
	switch state {
	case ZalandoRunning:
		return true, ""
	case "":
		return false, "postgresql has no status yet: the operator has not picked it up"
	case ZalandoCreating, ZalandoUpdating, ZalandoSyncing:
		return false, fmt.Sprintf("postgresql is %s", state)
	case ZalandoCreateFailed, ZalandoUpdateFailed, ZalandoSyncFailed:
		return false, fmt.Sprintf("postgresql reports %s: see the operator's events on the postgresql", state)
	case ZalandoInvalid:
		return false, "postgresql is Invalid: the operator rejected its spec"
	case ZalandoTerminating:
		return false, "postgresql is Terminating"
	default:
		return false, fmt.Sprintf("postgresql is in unknown state %q", state)
	}
}
