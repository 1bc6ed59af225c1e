package render

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// field reads a nested field of a rendered object.
func field(u *unstructured.Unstructured, path string) interface{} {
	v, found, err := unstructured.NestedFieldNoCopy(u.Object, splitPath(path)...)
	if err != nil || !found {
		return nil
	}
	return v
}

func TestZalandoPostgresql(t *testing.T) {
	g := NewWithT(t)
	w := newWork(fleetv1alpha1.EnginePostgreSQL).build()
	w.Annotations = map[string]string{AnnotationLogicalBackup: "true"}
	res, err := Render(inputs(w, capsOperators))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Flavour).To(Equal(FlavourZalando))
	pg := find(res.Objects, "postgresql", "berth-team-a-orders-75c1a60b", "berth-orders")
	g.Expect(pg).NotTo(BeNil(), "objects: %v", kinds(res.Objects))
	g.Expect(pg.GetAPIVersion()).To(Equal("acid.zalan.do/v1"))
	teamID := field(pg, "spec.teamId").(string)
	g.Expect(pg.GetName()).To(HavePrefix(teamID+"-"), "the operator requires the <teamId>- prefix")
	g.Expect(field(pg, "spec.numberOfInstances")).To(Equal(int64(3)))
	g.Expect(field(pg, "spec.postgresql.version")).To(Equal("16"))
	g.Expect(field(pg, "spec.volume.size")).To(Equal("10Gi"))
	g.Expect(field(pg, "spec.volume.storageClass")).To(Equal("fast"))
	g.Expect(field(pg, "spec.resources.requests.cpu")).To(Equal("500m"))
	g.Expect(field(pg, "spec.resources.requests.memory")).To(Equal("1Gi"))
	g.Expect(field(pg, "spec.resources.limits.cpu")).To(Equal("1000m"))
	g.Expect(field(pg, "spec.resources.limits.memory")).To(Equal("1Gi"))
	g.Expect(field(pg, "spec.enableLogicalBackup")).To(Equal(true))
	g.Expect(field(pg, "spec.enableMasterLoadBalancer")).To(Equal(false))
	g.Expect(field(pg, "spec.podPriorityClassName")).To(Equal(PriorityClassName))
	g.Expect(field(pg, "spec.users")).To(HaveKey("app"))
	g.Expect(field(pg, "spec.databases")).To(HaveKeyWithValue("app", "app"))
	g.Expect(field(pg, "spec.tolerations")).To(ConsistOf(map[string]interface{}{
		"key": "pool", "operator": "Equal", "value": "db", "effect": "NoSchedule",
	}))
	terms := field(pg, "spec.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms").([]interface{})
	g.Expect(terms).To(ConsistOf(map[string]interface{}{"matchExpressions": []interface{}{
		map[string]interface{}{"key": "pool", "operator": "In", "values": []interface{}{"db"}},
	}}))
	g.Expect(find(res.Objects, "Secret", res.Namespace, "orders-credentials")).To(BeNil(), "the operator generates the credentials")
	g.Expect(find(res.Objects, "PodDisruptionBudget", res.Namespace, "orders")).To(BeNil(), "the operator keeps its own budget")

	// Without the annotation there are no logical backups.
	res, err = Render(inputs(newWork(fleetv1alpha1.EnginePostgreSQL).build(), capsOperators))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(field(find(res.Objects, "postgresql", res.Namespace, "berth-orders"), "spec.enableLogicalBackup")).To(Equal(false))
}

func TestQuantityFormatsMatchZalando(t *testing.T) {
	testCases := []struct {
		in, cpu, bytes string
	}{
		{"1", "1000m", "1"},
		{"1.5", "1500m", "2"},
		{"250m", "250m", "1"},
		{"1Gi", "1073741824000m", "1Gi"},
		{"1.5Gi", "1610612736000m", "1536Mi"},
		{"500M", "500000000000m", "500000000"},
		{"2Ti", "2199023255552000m", "2Ti"},
		{"100k", "100000000m", "100000"},
	}
	for _, tc := range testCases {
		t.Run(tc.in, func(t *testing.T) {
			g := NewWithT(t)
			q := resource.MustParse(tc.in)
			g.Expect(cpuString(q)).To(Equal(tc.cpu))
			g.Expect(zalandoCPUPattern.MatchString(cpuString(q))).To(BeTrue())
			g.Expect(bytesString(q)).To(Equal(tc.bytes))
			g.Expect(zalandoMemoryPattern.MatchString(bytesString(q))).To(BeTrue())
		})
	}
}

func TestEffectiveResources(t *testing.T) {
	cpu, mem := corev1.ResourceCPU, corev1.ResourceMemory
	q := resource.MustParse
	testCases := []struct {
		name    string
		in      corev1.ResourceRequirements
		req     corev1.ResourceList
		lim     corev1.ResourceList
		wantErr string
	}{
		{
			name: "defaults",
			req:  corev1.ResourceList{cpu: defaultCPU, mem: defaultMemory},
			lim:  corev1.ResourceList{cpu: defaultCPU, mem: defaultMemory},
		},
		{
			name: "limits only",
			in:   corev1.ResourceRequirements{Limits: corev1.ResourceList{cpu: q("2"), mem: q("4Gi")}},
			req:  corev1.ResourceList{cpu: q("2"), mem: q("4Gi")},
			lim:  corev1.ResourceList{cpu: q("2"), mem: q("4Gi")},
		},
		{
			name: "requests only",
			in:   corev1.ResourceRequirements{Requests: corev1.ResourceList{cpu: q("100m")}},
			req:  corev1.ResourceList{cpu: q("100m"), mem: defaultMemory},
			lim:  corev1.ResourceList{cpu: q("100m"), mem: defaultMemory},
		},
		{
			name:    "request above limit",
			in:      corev1.ResourceRequirements{Requests: corev1.ResourceList{mem: q("2Gi")}, Limits: corev1.ResourceList{mem: q("1Gi")}},
			wantErr: "spec.service.resources.requests.memory",
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			out, err := effectiveResources(tc.in)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			for k, v := range tc.req {
				got := out.Requests[k]
				g.Expect(got.Cmp(v)).To(Equal(0), "request %s", k)
			}
			for k, v := range tc.lim {
				got := out.Limits[k]
				g.Expect(got.Cmp(v)).To(Equal(0), "limit %s", k)
			}
		})
	}
}

func TestSpotahomeRedisFailover(t *testing.T) {
	for _, tc := range []struct {
		policy fleetv1alpha1.DeletionPolicy
		keep   bool
	}{{fleetv1alpha1.DeletionPolicyRetain, true}, {fleetv1alpha1.DeletionPolicyDelete, false}} {
		t.Run(string(tc.policy), func(t *testing.T) {
			g := NewWithT(t)
			w := newWork(fleetv1alpha1.EngineRedis).build()
			w.Spec.Service.DeletionPolicy = tc.policy
			res, err := Render(inputs(w, capsOperators))
			g.Expect(err).NotTo(HaveOccurred())
			rf := find(res.Objects, "RedisFailover", res.Namespace, "orders")
			g.Expect(rf).NotTo(BeNil(), "objects: %v", kinds(res.Objects))
			g.Expect(rf.GetAPIVersion()).To(Equal("databases.spotahome.com/v1"))
			g.Expect(field(rf, "spec.redis.replicas")).To(Equal(int64(3)))
			g.Expect(field(rf, "spec.sentinel.replicas")).To(Equal(int64(3)))
			g.Expect(field(rf, "spec.redis.image")).To(Equal("redis:7.2-alpine"))
			g.Expect(field(rf, "spec.redis.resources.requests.cpu")).To(Equal("500m"))
			g.Expect(field(rf, "spec.redis.resources.limits.memory")).To(Equal("1Gi"))
			g.Expect(field(rf, "spec.sentinel.resources.requests.cpu")).To(Equal("50m"))
			for _, part := range []string{"redis", "sentinel"} {
				g.Expect(field(rf, "spec."+part+".tolerations")).To(HaveLen(1))
				g.Expect(field(rf, "spec."+part+".nodeSelector")).To(Equal(map[string]interface{}{"pool": "db"}))
				g.Expect(field(rf, "spec."+part+".priorityClassName")).To(Equal(PriorityClassName))
			}
			g.Expect(field(rf, "spec.redis.storage.keepAfterDeletion")).To(Equal(tc.keep))
			g.Expect(field(rf, "spec.redis.storage.persistentVolumeClaim.spec.resources.requests.storage")).To(Equal("10Gi"))
			g.Expect(field(rf, "spec.redis.storage.persistentVolumeClaim.spec.storageClassName")).To(Equal("fast"))
			secretName := field(rf, "spec.auth.secretPath").(string)
			sec := find(res.Objects, "Secret", res.Namespace, secretName)
			g.Expect(sec).NotTo(BeNil(), "berth generates the auth Secret")
			g.Expect(secretData(g, sec)).To(HaveKey("password"))
			g.Expect(indexOf(res.Objects, "Secret")).To(BeNumerically("<", indexOf(res.Objects, "RedisFailover")))
		})
	}
}

func TestRabbitmqCluster(t *testing.T) {
	g := NewWithT(t)
	res, err := Render(inputs(newWork(fleetv1alpha1.EngineRabbitMQ).build(), capsOperators))
	g.Expect(err).NotTo(HaveOccurred())
	rc := find(res.Objects, "RabbitmqCluster", res.Namespace, "orders")
	g.Expect(rc).NotTo(BeNil(), "objects: %v", kinds(res.Objects))
	g.Expect(rc.GetAPIVersion()).To(Equal("rabbitmq.com/v1beta1"))
	g.Expect(field(rc, "spec.replicas")).To(Equal(int64(3)))
	g.Expect(field(rc, "spec.image")).To(Equal("rabbitmq:3.13-management"))
	g.Expect(field(rc, "spec.resources.limits.cpu")).To(Equal("1"))
	g.Expect(field(rc, "spec.service.type")).To(Equal("ClusterIP"))
	g.Expect(field(rc, "spec.persistence.storage")).To(Equal("10Gi"))
	g.Expect(field(rc, "spec.persistence.storageClassName")).To(Equal("fast"))
	g.Expect(field(rc, "spec.tolerations")).To(HaveLen(1))
	g.Expect(field(rc, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms")).To(HaveLen(1))
	g.Expect(field(rc, "spec.override.statefulSet.spec.template.spec.priorityClassName")).To(Equal(PriorityClassName))
	pdb := find(res.Objects, "PodDisruptionBudget", res.Namespace, "orders")
	g.Expect(pdb).NotTo(BeNil(), "the cluster-operator keeps no budget, berth does")
	g.Expect(field(pdb, "spec.selector.matchLabels")).To(Equal(map[string]interface{}{
		"app.kubernetes.io/name": "orders", "app.kubernetes.io/component": "rabbitmq",
	}))
}

func TestBuiltinStatefulSets(t *testing.T) {
	testCases := []struct {
		engine      fleetv1alpha1.Engine
		image       string
		port        int32
		primaryOnly bool
		secretKeys  []string
	}{
		{fleetv1alpha1.EnginePostgreSQL, "postgres:16", 5432, true, []string{"username", "password", "database", "replication-password"}},
		{fleetv1alpha1.EngineRedis, "redis:7.2", 6379, true, []string{"password"}},
		{fleetv1alpha1.EngineRabbitMQ, "rabbitmq:3.13-management", 5672, false, []string{"username", "password", "erlang-cookie"}},
	}
	for _, tc := range testCases {
		t.Run(string(tc.engine), func(t *testing.T) {
			g := NewWithT(t)
			res, err := Render(inputs(newWork(tc.engine).build(), capsNone))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Flavour).To(Equal(FlavourBuiltIn))
			u := find(res.Objects, "StatefulSet", res.Namespace, "orders")
			g.Expect(u).NotTo(BeNil())
			sts := &appsv1.StatefulSet{}
			g.Expect(fromUnstructured(u, sts)).To(Succeed())
			g.Expect(*sts.Spec.Replicas).To(Equal(int32(3)))
			g.Expect(sts.Spec.ServiceName).To(Equal("orders-headless"))
			pod := sts.Spec.Template.Spec
			g.Expect(pod.PriorityClassName).To(Equal(PriorityClassName))
			g.Expect(pod.NodeSelector).To(Equal(map[string]string{"pool": "db"}))
			g.Expect(pod.Tolerations).To(HaveLen(1))
			c := pod.Containers[0]
			g.Expect(c.Image).To(Equal(tc.image))
			g.Expect(c.ReadinessProbe).NotTo(BeNil())
			g.Expect(c.Ports[0].ContainerPort).To(Equal(tc.port))
			g.Expect(c.Resources.Requests.Cpu().String()).To(Equal("500m"))
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					g.Expect(e.ValueFrom.SecretKeyRef.Name).To(Equal("orders-credentials"))
					g.Expect(tc.secretKeys).To(ContainElement(e.ValueFrom.SecretKeyRef.Key))
				}
			}
			vct := sts.Spec.VolumeClaimTemplates[0]
			g.Expect(vct.Spec.Resources.Requests.Storage().String()).To(Equal("10Gi"))
			g.Expect(*vct.Spec.StorageClassName).To(Equal("fast"))
			g.Expect(secretData(g, find(res.Objects, "Secret", res.Namespace, "orders-credentials"))).To(HaveLen(len(tc.secretKeys)))

			client := &corev1.Service{}
			g.Expect(fromUnstructured(find(res.Objects, "Service", res.Namespace, "orders"), client)).To(Succeed())
			g.Expect(client.Spec.Ports[0].Port).To(Equal(tc.port))
			if tc.primaryOnly {
				g.Expect(client.Spec.Selector).To(HaveKeyWithValue(appsv1.PodIndexLabel, "0"))
			} else {
				g.Expect(client.Spec.Selector).NotTo(HaveKey(appsv1.PodIndexLabel))
			}
			headless := &corev1.Service{}
			g.Expect(fromUnstructured(find(res.Objects, "Service", res.Namespace, "orders-headless"), headless)).To(Succeed())
			g.Expect(headless.Spec.ClusterIP).To(Equal(corev1.ClusterIPNone))
			g.Expect(headless.Spec.Selector).To(Equal(sts.Spec.Selector.MatchLabels))
			g.Expect(find(res.Objects, "PodDisruptionBudget", res.Namespace, "orders")).NotTo(BeNil())
		})
	}
}

func TestBuiltinRabbitMQClusterFormation(t *testing.T) {
	g := NewWithT(t)
	res, err := Render(inputs(newWork(fleetv1alpha1.EngineRabbitMQ).build(), capsNone))
	g.Expect(err).NotTo(HaveOccurred())
	cm := &corev1.ConfigMap{}
	g.Expect(fromUnstructured(find(res.Objects, "ConfigMap", res.Namespace, "orders-scripts"), cm)).To(Succeed())
	lines := strings.Split(strings.TrimSpace(cm.Data["10-berth.conf"]), "\n")
	g.Expect(lines).To(HaveLen(4))
	g.Expect(lines[3]).To(Equal("cluster_formation.classic_config.nodes.3 = rabbit@orders-2.orders-headless.berth-team-a-orders-75c1a60b.svc.cluster.local"))
}

func TestSingleReplicaHasNoBudget(t *testing.T) {
	g := NewWithT(t)
	res, err := Render(inputs(newWork(fleetv1alpha1.EnginePostgreSQL).replicas(1).build(), capsNone))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(indexOf(res.Objects, "PodDisruptionBudget")).To(Equal(-1))
}
