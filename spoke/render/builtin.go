package render

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// builtinEngine holds what differs between engines in the built-in flavour.
type builtinEngine struct {
	image    string
	port     int32
	portName string
	// primaryOnly sends clients to ordinal 0, the primary that the other
	// ordinals replicate from.
	primaryOnly bool
	// uid runs the containers and owns the volume.
	uid int64
	// dataPath is where the volume is mounted.
	dataPath string
}

// builtinEngines are the images and ports per engine. The images are the
// official ones from Docker Hub.
func builtinEngineFor(engine fleetv1alpha1.Engine, version string) builtinEngine {
	switch engine {
	case fleetv1alpha1.EnginePostgreSQL:
		return builtinEngine{image: "postgres:" + version, port: 5432, portName: "postgres", primaryOnly: true, uid: 999, dataPath: "/var/lib/postgresql/data"}
	case fleetv1alpha1.EngineRedis:
		return builtinEngine{image: "redis:" + version, port: 6379, portName: "redis", primaryOnly: true, uid: 999, dataPath: "/data"}
	default:
		return builtinEngine{image: "rabbitmq:" + version + "-management", port: 5672, portName: "amqp", uid: 999, dataPath: "/var/lib/rabbitmq"}
	}
}

// builtinDriver runs an engine without an operator: a StatefulSet with one
// volume per replica, a headless Service for the pods' DNS names, a client
// Service, a ConfigMap of start scripts and a generated credentials Secret.
//   - PostgreSQL: ordinal 0 is the primary; the others clone it with
//     pg_basebackup and stream from it. Clients reach the primary.
//   - Redis: ordinal 0 is the master; the others run with replicaof.
//     Clients reach the master directly.
//   - RabbitMQ: all ordinals form one cluster through classic peer
//     discovery with a shared Erlang cookie. Clients reach any node.
//
// Failover is not automatic: a lost primary is replaced by the StatefulSet
// on the same volume.
type builtinDriver struct {
	engine fleetv1alpha1.Engine
}

func (builtinDriver) operator() fleetv1alpha1.Operator { return "" }

// builtinLabels are the pod labels of the service.
func builtinLabels(s *service) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":     strings.ToLower(string(s.tmpl.Engine)),
		"app.kubernetes.io/instance": s.name,
	}
}

// headlessName is the governing Service of the StatefulSet.
func headlessName(s *service) string { return s.name + "-headless" }

// scriptsName is the ConfigMap of start scripts.
func scriptsName(s *service) string { return s.name + "-scripts" }

func (d builtinDriver) objects(s *service) ([]*unstructured.Unstructured, error) {
	e := builtinEngineFor(s.tmpl.Engine, s.tmpl.Version)
	labels := builtinLabels(s)
	primaryHost := s.name + "-0." + headlessName(s)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: scriptsName(s), Namespace: s.namespace},
		Data:       d.scripts(s),
	}
	port := corev1.ServicePort{Name: e.portName, Port: e.port, TargetPort: intstr.FromString(e.portName), Protocol: corev1.ProtocolTCP}
	headless := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: headlessName(s), Namespace: s.namespace},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone, Selector: labels, Ports: []corev1.ServicePort{port},
			// Peers must resolve each other before they are ready.
			PublishNotReadyAddresses: true,
		},
	}
	clientSel, _ := d.remoteTarget(s)
	clientSvc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: clientSel, Ports: []corev1.ServicePort{port}},
	}

	secretName := GeneratedSecretName(s.ref).Name
	fromSecret := func(env, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secretName}, Key: key,
		}}}
	}
	main := corev1.Container{
		Name: strings.ToLower(string(s.tmpl.Engine)), Image: e.image,
		Ports:        []corev1.ContainerPort{{Name: e.portName, ContainerPort: e.port, Protocol: corev1.ProtocolTCP}},
		Resources:    s.resources,
		VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: e.dataPath}, {Name: "scripts", MountPath: "/scripts"}},
	}
	var inits []corev1.Container
	podSecurity := &corev1.PodSecurityContext{FSGroup: ptr.To(e.uid)}
	volumes := []corev1.Volume{{Name: "scripts", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: scriptsName(s)},
	}}}}
	switch s.tmpl.Engine {
	case fleetv1alpha1.EnginePostgreSQL:
		// The image's entrypoint starts as root, fixes ownership and drops to
		// the postgres user.
		main.Command = []string{"/bin/sh", "/scripts/entrypoint.sh"}
		main.Env = []corev1.EnvVar{
			fromSecret("POSTGRES_USER", KeyUsername), fromSecret("POSTGRES_PASSWORD", KeyPassword),
			fromSecret("POSTGRES_DB", KeyDatabase), fromSecret("REPLICATION_PASSWORD", keyReplicationPassword),
			{Name: "PGDATA", Value: e.dataPath + "/pgdata"}, {Name: "PRIMARY_HOST", Value: primaryHost},
		}
		main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: "scripts", MountPath: "/docker-entrypoint-initdb.d/10-replication.sh", SubPath: "init-replication.sh"})
		main.ReadinessProbe = execProbe(`pg_isready -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB"`)
	case fleetv1alpha1.EngineRedis:
		main.Command = []string{"/bin/sh", "/scripts/start.sh"}
		main.Env = []corev1.EnvVar{fromSecret("REDIS_PASSWORD", KeyPassword), {Name: "PRIMARY_HOST", Value: primaryHost}}
		main.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To(e.uid), RunAsGroup: ptr.To(e.uid), RunAsNonRoot: ptr.To(true)}
		main.ReadinessProbe = execProbe(`redis-cli -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG`)
	case fleetv1alpha1.EngineRabbitMQ:
		fqdnSuffix := "." + headlessName(s) + "." + s.namespace + ".svc." + s.clusterDomain
		main.Env = []corev1.EnvVar{
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "RABBITMQ_USE_LONGNAME", Value: "true"},
			{Name: "RABBITMQ_NODENAME", Value: "rabbit@$(POD_NAME)" + fqdnSuffix},
			fromSecret("RABBITMQ_DEFAULT_USER", KeyUsername), fromSecret("RABBITMQ_DEFAULT_PASS", KeyPassword),
		}
		main.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To(e.uid), RunAsGroup: ptr.To(e.uid), RunAsNonRoot: ptr.To(true)}
		main.VolumeMounts = []corev1.VolumeMount{
			{Name: "data", MountPath: e.dataPath},
			{Name: "scripts", MountPath: "/etc/rabbitmq/conf.d/10-berth.conf", SubPath: "10-berth.conf"},
		}
		main.ReadinessProbe = &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(e.portName)}},
			PeriodSeconds:    10,
			FailureThreshold: 3,
		}
		// Erlang refuses a cookie file others can read, so it is copied from
		// the Secret with mode 0600.
		volumes = append(volumes, corev1.Volume{Name: "erlang-cookie", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: secretName, Items: []corev1.KeyToPath{{Key: keyErlangCookie, Path: ".erlang.cookie"}},
		}}})
		inits = append(inits, corev1.Container{
			Name: "erlang-cookie", Image: e.image,
			Command:         []string{"/bin/sh", "-c", "cp /cookie/.erlang.cookie " + e.dataPath + "/.erlang.cookie && chmod 600 " + e.dataPath + "/.erlang.cookie"},
			Resources:       allowance,
			SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To(e.uid), RunAsGroup: ptr.To(e.uid), RunAsNonRoot: ptr.To(true)},
			VolumeMounts:    []corev1.VolumeMount{{Name: "data", MountPath: e.dataPath}, {Name: "erlang-cookie", MountPath: "/cookie"}},
		})
	}

	pvc := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: s.tmpl.Storage.Size}},
		},
	}
	if sc := s.tmpl.Storage.StorageClassName; sc != "" {
		pvc.Spec.StorageClassName = &sc
	}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(s.tmpl.Replicas),
			ServiceName:         headlessName(s),
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					InitContainers:                inits,
					Containers:                    []corev1.Container{main},
					Volumes:                       volumes,
					SecurityContext:               podSecurity,
					PriorityClassName:             PriorityClassName,
					Tolerations:                   s.tolerations(),
					NodeSelector:                  s.nodeSelector(),
					AutomountServiceAccountToken:  ptr.To(false),
					EnableServiceLinks:            ptr.To(false),
					TerminationGracePeriodSeconds: ptr.To[int64](60),
					Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
							Weight: 100,
							PodAffinityTerm: corev1.PodAffinityTerm{
								LabelSelector: &metav1.LabelSelector{MatchLabels: labels},
								TopologyKey:   corev1.LabelHostname,
							},
						}},
					}},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{pvc},
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
		},
	}
	var out []*unstructured.Unstructured
	for _, obj := range []runtime.Object{cm, headless, clientSvc, sts} {
		u, err := toUnstructured(obj)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// execProbe is a readiness probe running a shell command.
func execProbe(cmd string) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", cmd}}},
		InitialDelaySeconds: 5,
		PeriodSeconds:       10,
		TimeoutSeconds:      5,
		FailureThreshold:    3,
	}
}

// scripts are the ConfigMap data of the start scripts.
func (builtinDriver) scripts(s *service) map[string]string {
	switch s.tmpl.Engine {
	case fleetv1alpha1.EnginePostgreSQL:
		return map[string]string{
			// Runs once, when the primary initialises its data directory.
			"init-replication.sh": `#!/bin/sh
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD';"
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
`,
			// Ordinals other than 0 clone the primary on first start, then
			// run as streaming standbys (pg_basebackup -R).
			"entrypoint.sh": `#!/bin/sh
set -e
ordinal="${HOSTNAME##*-}"
if [ "$ordinal" != "0" ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  until gosu postgres env PGPASSWORD="$REPLICATION_PASSWORD" \
      pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream; do
    echo "Waiting for the primary $PRIMARY_HOST"
    rm -rf "${PGDATA:?}"/*
    sleep 3
  done
fi
exec docker-entrypoint.sh postgres
`,
		}
	case fleetv1alpha1.EngineRedis:
		return map[string]string{
			// The password goes to a config file, not the command line.
			"start.sh": `#!/bin/sh
set -e
ordinal="${HOSTNAME##*-}"
conf=/tmp/redis.conf
{
  echo "port 6379"
  echo "dir /data"
  echo "appendonly yes"
  echo "requirepass $REDIS_PASSWORD"
  echo "masterauth $REDIS_PASSWORD"
} > "$conf"
if [ "$ordinal" != "0" ]; then
  echo "replicaof $PRIMARY_HOST 6379" >> "$conf"
fi
exec redis-server "$conf"
`,
		}
	default:
		var b strings.Builder
		b.WriteString("cluster_formation.peer_discovery_backend = classic_config\n")
		for i := int32(0); i < s.tmpl.Replicas; i++ {
			fmt.Fprintf(&b, "cluster_formation.classic_config.nodes.%d = rabbit@%s-%d.%s.%s.svc.%s\n",
				i+1, s.name, i, headlessName(s), s.namespace, s.clusterDomain)
		}
		return map[string]string{"10-berth.conf": b.String()}
	}
}

func (d builtinDriver) clientService(s *service) (string, int32) {
	return s.name, builtinEngineFor(s.tmpl.Engine, s.tmpl.Version).port
}

// remoteTarget: the primary (ordinal 0) for PostgreSQL and Redis, every
// node for RabbitMQ.
func (d builtinDriver) remoteTarget(s *service) (map[string]string, int32) {
	e := builtinEngineFor(s.tmpl.Engine, s.tmpl.Version)
	sel := builtinLabels(s)
	if e.primaryOnly {
		sel[appsv1.PodIndexLabel] = "0"
	}
	return sel, e.port
}

func (builtinDriver) podSelector(s *service) map[string]string { return builtinLabels(s) }

func (builtinDriver) clientPorts(s *service) []int32 {
	return []int32{builtinEngineFor(s.tmpl.Engine, s.tmpl.Version).port}
}

func (builtinDriver) operatorPDB() bool { return false }

func (builtinDriver) podGroups(s *service) []podGroup {
	var inits []corev1.ResourceRequirements
	if s.tmpl.Engine == fleetv1alpha1.EngineRabbitMQ {
		inits = append(inits, allowance)
	}
	return []podGroup{{
		name: strings.ToLower(string(s.tmpl.Engine)), count: s.replicas(), pvcs: 1, storage: s.tmpl.Storage.Size,
		resources: podResources([]corev1.ResourceRequirements{s.resources}, inits),
	}}
}

func (builtinDriver) generatesCredentials() bool { return true }

func (builtinDriver) credentialsSecret(s *service) string { return GeneratedSecretName(s.ref).Name }

func (d builtinDriver) connection(s *service, data map[string][]byte) (map[string][]byte, error) {
	name := d.credentialsSecret(s)
	switch s.tmpl.Engine {
	case fleetv1alpha1.EnginePostgreSQL:
		out, err := requireKeys(name, data, KeyUsername, KeyPassword, KeyDatabase)
		if err != nil {
			return nil, err
		}
		return out, nil
	case fleetv1alpha1.EngineRedis:
		out, err := requireKeys(name, data, KeyPassword)
		if err != nil {
			return nil, err
		}
		out[KeyMode] = []byte(RedisModeDirect)
		return out, nil
	default:
		out, err := requireKeys(name, data, KeyUsername, KeyPassword)
		if err != nil {
			return nil, err
		}
		out[KeyVhost] = []byte("/")
		return out, nil
	}
}

func (builtinDriver) statusObjects(s *service) []objectRef {
	return []objectRef{{"apps", "statefulsets", s.name}, {"", "services", s.name}}
}

// status: ready when the StatefulSet has observed its generation and all
// its replicas are ready.
func (builtinDriver) status(ctx context.Context, s *service, g Getter) (Observed, error) {
	ready, msg, readyReplicas, err := workloadReady(ctx, g, gvkStatefulSet, s.namespace, s.name, s.replicas())
	if err != nil {
		return Observed{}, err
	}
	return Observed{Ready: ready, ReadyReplicas: readyReplicas, Message: msg}, nil
}
