package render

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// RabbitmqCluster condition types berth reads.
const (
	RabbitConditionClusterAvailable = "ClusterAvailable"
	RabbitConditionAllReplicasReady = "AllReplicasReady"
)

// rabbitmqSetupContainer is the size of the operator's setup init
// container, which can make a small pod larger than its main container.
var rabbitmqSetupContainer = corev1.ResourceRequirements{
	Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")},
	Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")},
}

// rabbitmqDriver renders RabbitMQ as a `RabbitmqCluster`. The operator names
// the client Service after the cluster, the StatefulSet <name>-server, and
// the credentials Secret <name>-default-user.
type rabbitmqDriver struct{}

func (rabbitmqDriver) operator() fleetv1alpha1.Operator { return fleetv1alpha1.OperatorRabbitMQ }

func (rabbitmqDriver) objects(s *service) ([]*unstructured.Unstructured, error) {
	res, err := toJSONValue(s.resources)
	if err != nil {
		return nil, err
	}
	persistence := map[string]interface{}{"storage": s.tmpl.Storage.Size.String()}
	if sc := s.tmpl.Storage.StorageClassName; sc != "" {
		persistence["storageClassName"] = sc
	}
	spec := map[string]interface{}{
		"replicas":    s.replicas(),
		"image":       "rabbitmq:" + s.tmpl.Version + "-management",
		"resources":   res,
		"service":     map[string]interface{}{"type": string(corev1.ServiceTypeClusterIP)},
		"persistence": persistence,
		// The CRD has no priorityClassName; the StatefulSet override sets it.
		// containers is required by the embedded PodSpec schema; an empty
		// list patches nothing.
		"override": map[string]interface{}{
			"statefulSet": map[string]interface{}{
				"spec": map[string]interface{}{
					"template": map[string]interface{}{
						"spec": map[string]interface{}{
							"containers":        []interface{}{},
							"priorityClassName": PriorityClassName,
						},
					},
				},
			},
		},
	}
	tols, err := tolerationsValue(s.tolerations())
	if err != nil {
		return nil, err
	}
	if tols != nil {
		spec["tolerations"] = tols
	}
	if na := nodeAffinityFor(s.nodeSelector()); na != nil {
		v, err := toJSONValue(corev1.Affinity{NodeAffinity: na})
		if err != nil {
			return nil, err
		}
		spec["affinity"] = v
	}
	u := newUnstructured(GVKRabbitmqCluster, s.namespace, s.name)
	u.Object["spec"] = spec
	return []*unstructured.Unstructured{u}, nil
}

func (rabbitmqDriver) clientService(s *service) (string, int32) { return s.name, 5672 }

func (d rabbitmqDriver) remoteTarget(s *service) (map[string]string, int32) {
	return d.podSelector(s), 5672
}

func (rabbitmqDriver) podSelector(s *service) map[string]string {
	return map[string]string{"app.kubernetes.io/name": s.name, "app.kubernetes.io/component": "rabbitmq"}
}

func (rabbitmqDriver) clientPorts(*service) []int32 { return []int32{5672} }

// operatorPDB: the cluster-operator leaves PodDisruptionBudgets to the user.
func (rabbitmqDriver) operatorPDB() bool { return false }

func (rabbitmqDriver) podGroups(s *service) []podGroup {
	return []podGroup{{
		name: "rabbitmq", count: s.replicas(), pvcs: 1, storage: s.tmpl.Storage.Size,
		resources: podResources([]corev1.ResourceRequirements{s.resources}, []corev1.ResourceRequirements{rabbitmqSetupContainer}),
	}}
}

func (rabbitmqDriver) generatesCredentials() bool { return false }

func (rabbitmqDriver) credentialsSecret(s *service) string { return s.name + "-default-user" }

func (d rabbitmqDriver) connection(s *service, data map[string][]byte) (map[string][]byte, error) {
	out, err := requireKeys(d.credentialsSecret(s), data, "username", "password")
	if err != nil {
		return nil, err
	}
	return map[string][]byte{KeyUsername: out["username"], KeyPassword: out["password"], KeyVhost: []byte("/")}, nil
}

func (rabbitmqDriver) statusObjects(s *service) []objectRef {
	return []objectRef{
		{"rabbitmq.com", "rabbitmqclusters", s.name},
		{"apps", "statefulsets", s.name + "-server"},
	}
}

// status: ready when the ClusterAvailable and AllReplicasReady conditions
// are both True; each other condition state is reported in the message.
// Ready replicas come from the <name>-server StatefulSet.
func (rabbitmqDriver) status(ctx context.Context, s *service, g Getter) (Observed, error) {
	rc, err := getOptional(ctx, g, GVKRabbitmqCluster, s.namespace, s.name)
	if err != nil || rc == nil {
		return notFound(err, "RabbitmqCluster", s.namespace, s.name)
	}
	obs := Observed{}
	if sts, err := getOptional(ctx, g, gvkStatefulSet, s.namespace, s.name+"-server"); err != nil {
		return obs, err
	} else if sts != nil {
		obs.ReadyReplicas = nestedInt32(sts, "status", "readyReplicas")
	}
	obs.Ready, obs.Message = rabbitConditions(rc)
	return obs, nil
}

// rabbitConditions is ready when both required conditions are True.
func rabbitConditions(rc *unstructured.Unstructured) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(rc.Object, "status", "conditions")
	byType := map[string]map[string]interface{}{}
	for _, c := range conds {
		if m, ok := c.(map[string]interface{}); ok {
			t, _ := m["type"].(string)
			byType[t] = m
		}
	}
	var msgs []string
	for _, t := range []string{RabbitConditionClusterAvailable, RabbitConditionAllReplicasReady} {
		c, ok := byType[t]
		if !ok {
			msgs = append(msgs, t+" not reported yet")
			continue
		}
		if st, _ := c["status"].(string); st != string(corev1.ConditionTrue) {
			msg := fmt.Sprintf("%s is %q", t, st)
			reason, _ := c["reason"].(string)
			message, _ := c["message"].(string)
			if detail := strings.TrimSpace(reason + " " + message); detail != "" {
				msg += ": " + detail
			}
			msgs = append(msgs, msg)
		}
	}
	return len(msgs) == 0, strings.Join(msgs, "; ")
}
