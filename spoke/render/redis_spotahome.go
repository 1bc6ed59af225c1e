package render

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// Spotahome naming and defaults: the operator names the Redis StatefulSet
// rfr-<name>, the sentinel Deployment and Service rfs-<name>, and labels its
// pods with app.kubernetes.io/{name,component,part-of}; the master pod also
// carries redisfailovers-role=master.
const (
	spotahomeSentinels      = 3
	spotahomeSentinelPort   = 26379
	spotahomeRedisPort      = 6379
	spotahomeMasterName     = "mymaster"
	spotahomePartOf         = "redis-failover"
	spotahomeRoleLabel      = "redisfailovers-role"
	spotahomePVCName        = "redisfailover-persistent-data"
	spotahomeAuthSecretKey  = "password"
	spotahomeSentinelCPU    = "50m"
	spotahomeSentinelMemory = "64Mi"
)

// sentinelResources are the fixed resources of each sentinel.
var sentinelResources = corev1.ResourceRequirements{
	Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse(spotahomeSentinelCPU), corev1.ResourceMemory: resource.MustParse(spotahomeSentinelMemory),
	},
	Limits: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
	},
}

// spotahomeDriver renders Redis as a Spotahome `RedisFailover` with three
// sentinels. berth generates the auth Secret the failover points at with
// auth.secretPath. Co-located clients use the sentinels (rfs-<name>:26379);
// a remote exposure forwards to the master pod on 6379 instead, because the
// sentinels answer with pod IPs a client in another cluster cannot reach.
type spotahomeDriver struct{}

func (spotahomeDriver) operator() fleetv1alpha1.Operator { return fleetv1alpha1.OperatorSpotahomeRedis }

func (spotahomeDriver) objects(s *service) ([]*unstructured.Unstructured, error) {
	image := "redis:" + s.tmpl.Version + "-alpine"
	redisRes, err := toJSONValue(s.resources)
	if err != nil {
		return nil, err
	}
	sentinelRes, err := toJSONValue(sentinelResources)
	if err != nil {
		return nil, err
	}
	pvc := corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources: corev1.VolumeResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceStorage: s.tmpl.Storage.Size},
		},
	}
	if sc := s.tmpl.Storage.StorageClassName; sc != "" {
		pvc.StorageClassName = &sc
	}
	pvcSpec, err := toJSONValue(pvc)
	if err != nil {
		return nil, err
	}
	redis := map[string]interface{}{
		"image":             image,
		"replicas":          s.replicas(),
		"resources":         redisRes,
		"priorityClassName": PriorityClassName,
		"storage": map[string]interface{}{
			// Retain keeps the data when the RedisFailover goes away.
			"keepAfterDeletion": s.tmpl.DeletionPolicy != fleetv1alpha1.DeletionPolicyDelete,
			"persistentVolumeClaim": map[string]interface{}{
				"metadata": map[string]interface{}{"name": spotahomePVCName},
				"spec":     pvcSpec,
			},
		},
	}
	sentinel := map[string]interface{}{
		"image":             image,
		"replicas":          int64(spotahomeSentinels),
		"resources":         sentinelRes,
		"priorityClassName": PriorityClassName,
	}
	tols, err := tolerationsValue(s.tolerations())
	if err != nil {
		return nil, err
	}
	for _, part := range []map[string]interface{}{redis, sentinel} {
		if tols != nil {
			part["tolerations"] = tols
		}
		if sel := s.nodeSelector(); len(sel) > 0 {
			part["nodeSelector"] = stringMap(sel)
		}
	}
	u := newUnstructured(GVKRedisFailover, s.namespace, s.name)
	u.Object["spec"] = map[string]interface{}{
		"redis":    redis,
		"sentinel": sentinel,
		"auth":     map[string]interface{}{"secretPath": GeneratedSecretName(s.ref).Name},
	}
	return []*unstructured.Unstructured{u}, nil
}

func (spotahomeDriver) clientService(s *service) (string, int32) {
	return "rfs-" + s.name, spotahomeSentinelPort
}

func (spotahomeDriver) remoteTarget(s *service) (map[string]string, int32) {
	return map[string]string{
		"app.kubernetes.io/name": s.name, "app.kubernetes.io/component": "redis",
		"app.kubernetes.io/part-of": spotahomePartOf, spotahomeRoleLabel: "master",
	}, spotahomeRedisPort
}

func (spotahomeDriver) podSelector(s *service) map[string]string {
	return map[string]string{"app.kubernetes.io/name": s.name, "app.kubernetes.io/part-of": spotahomePartOf}
}

// clientPorts: sentinel clients ask the sentinels, then connect to the master.
func (spotahomeDriver) clientPorts(*service) []int32 {
	return []int32{spotahomeRedisPort, spotahomeSentinelPort}
}

// operatorPDB: the operator keeps PodDisruptionBudgets for Redis and the
// sentinels.
func (spotahomeDriver) operatorPDB() bool { return true }

func (spotahomeDriver) podGroups(s *service) []podGroup {
	return []podGroup{
		{
			name: "redis", count: s.replicas(), pvcs: 1, storage: s.tmpl.Storage.Size,
			resources: podResources([]corev1.ResourceRequirements{s.resources}, []corev1.ResourceRequirements{allowance}),
		},
		{
			name: "sentinel", count: spotahomeSentinels,
			resources: podResources([]corev1.ResourceRequirements{sentinelResources}, []corev1.ResourceRequirements{allowance}),
		},
	}
}

func (spotahomeDriver) generatesCredentials() bool { return true }

func (spotahomeDriver) credentialsSecret(s *service) string { return GeneratedSecretName(s.ref).Name }

func (d spotahomeDriver) connection(s *service, data map[string][]byte) (map[string][]byte, error) {
	out, err := requireKeys(d.credentialsSecret(s), data, spotahomeAuthSecretKey)
	if err != nil {
		return nil, err
	}
	conn := map[string][]byte{KeyPassword: out[spotahomeAuthSecretKey], KeyMode: []byte(RedisModeDirect)}
	if s.colocated {
		conn[KeyMode] = []byte(RedisModeSentinel)
		conn[KeySentinelMasterName] = []byte(spotahomeMasterName)
	}
	return conn, nil
}

func (spotahomeDriver) statusObjects(s *service) []objectRef {
	return []objectRef{
		{"databases.spotahome.com", "redisfailovers", s.name},
		{"apps", "statefulsets", "rfr-" + s.name},
		{"apps", "deployments", "rfs-" + s.name},
	}
}

// status: a RedisFailover has no status, so readiness is read from the
// rfr-<name> StatefulSet and the rfs-<name> Deployment: both must have all
// their replicas ready at their current generation.
func (spotahomeDriver) status(ctx context.Context, s *service, g Getter) (Observed, error) {
	rf, err := getOptional(ctx, g, GVKRedisFailover, s.namespace, s.name)
	if err != nil || rf == nil {
		return notFound(err, "RedisFailover", s.namespace, s.name)
	}
	redisReady, redisMsg, redisReplicas, err := workloadReady(ctx, g, gvkStatefulSet, s.namespace, "rfr-"+s.name, s.replicas())
	if err != nil {
		return Observed{}, err
	}
	sentinelReady, sentinelMsg, _, err := workloadReady(ctx, g, gvkDeployment, s.namespace, "rfs-"+s.name, spotahomeSentinels)
	if err != nil {
		return Observed{}, err
	}
	obs := Observed{ReadyReplicas: redisReplicas, Ready: redisReady && sentinelReady}
	obs.Message = joinMessages(redisMsg, sentinelMsg)
	return obs, nil
}
