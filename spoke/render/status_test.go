package render

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

const platformNS = "berth-team-a-orders-75c1a60b"

// sts is a live StatefulSet or Deployment status.
func workload(gvk schema.GroupVersionKind, name string, generation, observed, ready int64) *unstructured.Unstructured {
	u := obj(gvk, platformNS, name, map[string]interface{}{
		"status.observedGeneration": observed, "status.readyReplicas": ready,
	})
	u.SetGeneration(generation)
	return u
}

func TestZalandoStatus(t *testing.T) {
	testCases := []struct {
		state   string
		ready   bool
		message string
	}{
		{ZalandoRunning, true, ""},
		{"", false, "no status yet"},
		{ZalandoCreating, false, "postgresql is Creating"},
		{ZalandoUpdating, false, "postgresql is Updating"},
		{ZalandoSyncing, false, "postgresql is Syncing"},
		{ZalandoCreateFailed, false, "reports CreateFailed"},
		{ZalandoUpdateFailed, false, "reports UpdateFailed"},
		{ZalandoSyncFailed, false, "reports SyncFailed"},
		{ZalandoInvalid, false, "Invalid"},
		{ZalandoTerminating, false, "Terminating"},
		{"Exploded", false, `unknown state "Exploded"`},
	}
	for _, tc := range testCases {
		t.Run("state "+tc.state, func(t *testing.T) {
			g := NewWithT(t)
			fields := map[string]interface{}{}
			if tc.state != "" {
				fields["status.PostgresClusterStatus"] = tc.state
			}
			live := mapGetter{}.
				add(obj(GVKPostgresql, platformNS, "berth-orders", fields)).
				add(workload(gvkStatefulSet, "berth-orders", 2, 2, 2))
			obs, err := ProviderStatus(t.Context(), inputs(newWork(fleetv1alpha1.EnginePostgreSQL).build(), capsOperators), live)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Ready).To(Equal(tc.ready))
			g.Expect(obs.ReadyReplicas).To(Equal(int32(2)))
			if tc.message == "" {
				g.Expect(obs.Message).To(BeEmpty())
			} else {
				g.Expect(obs.Message).To(ContainSubstring(tc.message))
			}
			g.Expect(obs.CredentialsSecret).To(Equal(types.NamespacedName{
				Namespace: platformNS, Name: "app.berth-orders.credentials.postgresql.acid.zalan.do",
			}))
			g.Expect(obs.Endpoint).To(Equal(&fleetv1alpha1.Endpoint{
				Host: "berth-orders.berth-team-a-orders-75c1a60b.svc.cluster.local", Port: 5432, SecretName: "orders-credentials",
			}))
		})
	}
}

func TestRabbitmqStatus(t *testing.T) {
	cond := func(typ, status, reason string) interface{} {
		return map[string]interface{}{"type": typ, "status": status, "reason": reason}
	}
	testCases := []struct {
		name    string
		conds   []interface{}
		ready   bool
		message []string
	}{
		{"both true", []interface{}{cond("ClusterAvailable", "True", ""), cond("AllReplicasReady", "True", ""), cond("NoWarnings", "False", "MemoryAlarm")}, true, nil},
		{"not all replicas", []interface{}{cond("ClusterAvailable", "True", ""), cond("AllReplicasReady", "False", "NotAllPodsReady")}, false,
			[]string{`AllReplicasReady is "False": NotAllPodsReady`}},
		{"unavailable", []interface{}{cond("ClusterAvailable", "False", "CouldNotAvailable"), cond("AllReplicasReady", "True", "")}, false,
			[]string{`ClusterAvailable is "False": CouldNotAvailable`}},
		{"unknown", []interface{}{cond("ClusterAvailable", "Unknown", ""), cond("AllReplicasReady", "Unknown", "")}, false,
			[]string{`ClusterAvailable is "Unknown"`, `AllReplicasReady is "Unknown"`}},
		{"no conditions yet", nil, false, []string{"ClusterAvailable not reported yet", "AllReplicasReady not reported yet"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			rc := newUnstructured(GVKRabbitmqCluster, platformNS, "orders")
			if tc.conds != nil {
				g.Expect(unstructured.SetNestedSlice(rc.Object, tc.conds, "status", "conditions")).To(Succeed())
			}
			live := mapGetter{}.add(rc).add(workload(gvkStatefulSet, "orders-server", 1, 1, 3))
			obs, err := ProviderStatus(t.Context(), inputs(newWork(fleetv1alpha1.EngineRabbitMQ).build(), capsOperators), live)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Ready).To(Equal(tc.ready))
			g.Expect(obs.ReadyReplicas).To(Equal(int32(3)))
			for _, m := range tc.message {
				g.Expect(obs.Message).To(ContainSubstring(m))
			}
			g.Expect(obs.CredentialsSecret.Name).To(Equal("orders-default-user"))
		})
	}
}

func TestSpotahomeStatus(t *testing.T) {
	rf := newUnstructured(GVKRedisFailover, platformNS, "orders")
	testCases := []struct {
		name    string
		live    mapGetter
		ready   bool
		replics int32
		message string
	}{
		{"all ready", mapGetter{}.add(rf).add(workload(gvkStatefulSet, "rfr-orders", 1, 1, 3)).add(workload(gvkDeployment, "rfs-orders", 1, 1, 3)), true, 3, ""},
		{"redis short", mapGetter{}.add(rf).add(workload(gvkStatefulSet, "rfr-orders", 1, 1, 2)).add(workload(gvkDeployment, "rfs-orders", 1, 1, 3)), false, 2, "rfr-orders has 2 of 3"},
		{"sentinels short", mapGetter{}.add(rf).add(workload(gvkStatefulSet, "rfr-orders", 1, 1, 3)).add(workload(gvkDeployment, "rfs-orders", 1, 1, 1)), false, 3, "rfs-orders has 1 of 3"},
		{"rolling out", mapGetter{}.add(rf).add(workload(gvkStatefulSet, "rfr-orders", 2, 1, 3)).add(workload(gvkDeployment, "rfs-orders", 1, 1, 3)), false, 3, "not observed generation 2"},
		{"no workloads yet", mapGetter{}.add(rf), false, 0, "StatefulSet berth-team-a-orders-75c1a60b/rfr-orders does not exist yet"},
		{"no failover", mapGetter{}, false, 0, "RedisFailover berth-team-a-orders-75c1a60b/orders does not exist yet"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obs, err := ProviderStatus(t.Context(), inputs(newWork(fleetv1alpha1.EngineRedis).build(), capsOperators), tc.live)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Ready).To(Equal(tc.ready))
			g.Expect(obs.ReadyReplicas).To(Equal(tc.replics))
			if tc.message != "" {
				g.Expect(obs.Message).To(ContainSubstring(tc.message))
			}
			g.Expect(obs.Endpoint.Host).To(Equal("rfs-orders.berth-team-a-orders-75c1a60b.svc.cluster.local"))
			g.Expect(obs.Endpoint.Port).To(Equal(int32(26379)))
		})
	}
}

func TestBuiltinStatus(t *testing.T) {
	testCases := []struct {
		name  string
		live  mapGetter
		ready bool
	}{
		{"ready", mapGetter{}.add(workload(gvkStatefulSet, "orders", 3, 3, 3)), true},
		{"starting", mapGetter{}.add(workload(gvkStatefulSet, "orders", 1, 1, 0)), false},
		{"missing", mapGetter{}, false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obs, err := ProviderStatus(t.Context(), inputs(newWork(fleetv1alpha1.EngineRabbitMQ).build(), capsNone), tc.live)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Ready).To(Equal(tc.ready))
			g.Expect(obs.Message == "").To(Equal(tc.ready))
			g.Expect(obs.CredentialsSecret.Name).To(Equal("orders-credentials"))
		})
	}
}

func TestRemoteEndpoint(t *testing.T) {
	ready := workload(gvkStatefulSet, "orders", 1, 1, 3)
	exposure := func(fields map[string]interface{}) *unstructured.Unstructured {
		return obj(gvkService, platformNS, "orders-external", fields)
	}
	ingress := func(m map[string]interface{}) map[string]interface{} {
		return map[string]interface{}{"status.loadBalancer.ingress": []interface{}{m}}
	}
	ports := func(nodePort int64) map[string]interface{} {
		return map[string]interface{}{"spec.ports": []interface{}{map[string]interface{}{"port": int64(5432), "nodePort": nodePort}}}
	}
	testCases := []struct {
		name     string
		caps     fleetv1alpha1.Capabilities
		node     string
		live     mapGetter
		ready    bool
		endpoint *fleetv1alpha1.Endpoint
		message  string
	}{
		{"LoadBalancer IP", capsLB, "", mapGetter{}.add(ready).add(exposure(ingress(map[string]interface{}{"ip": "192.0.2.7"}))), true,
			&fleetv1alpha1.Endpoint{Host: "192.0.2.7", Port: 5432, SecretName: "orders-credentials"}, ""},
		{"LoadBalancer hostname", capsLB, "", mapGetter{}.add(ready).add(exposure(ingress(map[string]interface{}{"hostname": "lb.example.com"}))), true,
			&fleetv1alpha1.Endpoint{Host: "lb.example.com", Port: 5432, SecretName: "orders-credentials"}, ""},
		{"LoadBalancer pending", capsLB, "", mapGetter{}.add(ready).add(exposure(nil)), false, nil, "has no address yet"},
		{"exposure missing", capsLB, "", mapGetter{}.add(ready), false, nil, "exposure Service berth-team-a-orders-75c1a60b/orders-external does not exist yet"},
		{"NodePort", capsNone, "10.0.0.5", mapGetter{}.add(ready).add(exposure(ports(31234))), true,
			&fleetv1alpha1.Endpoint{Host: "10.0.0.5", Port: 31234, SecretName: "orders-credentials"}, ""},
		{"NodePort without node address", capsNone, "", mapGetter{}.add(ready).add(exposure(ports(31234))), false, nil, "inputs.nodeAddress"},
		{"NodePort not allocated", capsNone, "10.0.0.5", mapGetter{}.add(ready).add(exposure(ports(0))), false, nil, "no node port yet"},
		{"ClusterMesh", capsMesh, "", mapGetter{}.add(ready), true,
			&fleetv1alpha1.Endpoint{Host: "orders-external.berth-team-a-orders-75c1a60b.svc", Port: 5432, SecretName: "orders-credentials"}, ""},
		{"engine not ready", capsMesh, "", mapGetter{}.add(workload(gvkStatefulSet, "orders", 1, 1, 1)), false,
			&fleetv1alpha1.Endpoint{Host: "orders-external.berth-team-a-orders-75c1a60b.svc", Port: 5432, SecretName: "orders-credentials"}, "1 of 3"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			in := inputs(newWork(fleetv1alpha1.EnginePostgreSQL).remoteProvider().build(), tc.caps)
			in.NodeAddress = tc.node
			obs, err := ProviderStatus(t.Context(), in, tc.live)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Ready).To(Equal(tc.ready))
			g.Expect(obs.Endpoint).To(Equal(tc.endpoint))
			if tc.message != "" {
				g.Expect(obs.Message).To(ContainSubstring(tc.message))
			}
		})
	}
}

// failingGetter fails every read.
type failingGetter struct{}

func (failingGetter) Get(context.Context, schema.GroupVersionKind, string, string) (*unstructured.Unstructured, error) {
	return nil, errors.New("connection refused")
}

func TestStatusReadErrors(t *testing.T) {
	for _, tc := range renderCases() {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := ProviderStatus(t.Context(), inputs(renderCaseWork(tc), tc.caps), failingGetter{})
			g.Expect(err).To(MatchError(ContainSubstring("connection refused")))
		})
	}
	g := NewWithT(t)
	_, _, err := BindingStatus(t.Context(), inputs(newWork(fleetv1alpha1.EngineRedis).build(), capsNone), failingGetter{})
	g.Expect(err).To(MatchError(ContainSubstring("connection refused")))
}

func TestRoleChecks(t *testing.T) {
	g := NewWithT(t)
	consumerOnly := newWork(fleetv1alpha1.EngineRedis).remoteConsumer(nil).build()
	_, err := ProviderStatus(t.Context(), inputs(consumerOnly, capsNone), mapGetter{})
	g.Expect(err).To(MatchError(ContainSubstring("role Provider")))
	_, err = ConnectionData(inputs(consumerOnly, capsNone), nil, fleetv1alpha1.Endpoint{})
	g.Expect(err).To(MatchError(ContainSubstring("role Provider")))
	_, _, err = BindingStatus(t.Context(), inputs(newWork(fleetv1alpha1.EngineRedis).remoteProvider().build(), capsNone), mapGetter{})
	g.Expect(err).To(MatchError(ContainSubstring("role Consumer")))
}

func TestBindingStatus(t *testing.T) {
	g := NewWithT(t)
	in := inputs(newWork(fleetv1alpha1.EngineRedis).build(), capsNone)
	live := mapGetter{}
	for _, ns := range []string{"shop", "billing"} {
		live.add(obj(gvkService, ns, "orders", nil))
	}
	live.add(obj(gvkSecret, "shop", "orders-credentials", nil))
	ok, msg, err := BindingStatus(t.Context(), in, live)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeFalse())
	g.Expect(msg).To(Equal("binding missing: Secret billing/orders-credentials"))

	live.add(obj(gvkSecret, "billing", "orders-credentials", nil))
	ok, msg, err = BindingStatus(t.Context(), in, live)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue())
	g.Expect(msg).To(BeEmpty())
}

func TestConnectionDataErrors(t *testing.T) {
	testCases := []struct {
		name    string
		engine  fleetv1alpha1.Engine
		caps    fleetv1alpha1.Capabilities
		data    map[string][]byte
		wantErr string
	}{
		{"Zalando without password", fleetv1alpha1.EnginePostgreSQL, capsOperators, map[string][]byte{"username": []byte("app")},
			`app.berth-orders.credentials.postgresql.acid.zalan.do has no key "password"`},
		{"RabbitMQ without username", fleetv1alpha1.EngineRabbitMQ, capsOperators, map[string][]byte{"password": []byte("x")},
			`orders-default-user has no key "username"`},
		{"Spotahome empty password", fleetv1alpha1.EngineRedis, capsOperators, map[string][]byte{"password": {}},
			`orders-credentials has no key "password"`},
		{"built-in PostgreSQL without database", fleetv1alpha1.EnginePostgreSQL, capsNone,
			map[string][]byte{"username": []byte("app"), "password": []byte("x")}, `has no key "database"`},
		{"built-in Redis", fleetv1alpha1.EngineRedis, capsNone, nil, `has no key "password"`},
		{"built-in RabbitMQ", fleetv1alpha1.EngineRabbitMQ, capsNone, map[string][]byte{"password": []byte("x")}, `has no key "username"`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := ConnectionData(inputs(newWork(tc.engine).build(), tc.caps), tc.data, fleetv1alpha1.Endpoint{Host: "h", Port: 1})
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestRemoteSpotahomeIsDirect(t *testing.T) {
	g := NewWithT(t)
	in := inputs(newWork(fleetv1alpha1.EngineRedis).remoteProvider().build(), withOperators(capsLB))
	conn, err := ConnectionData(in, map[string][]byte{"password": []byte("pw")}, fleetv1alpha1.Endpoint{Host: "192.0.2.7", Port: 6379})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(conn[KeyMode])).To(Equal(RedisModeDirect))
	g.Expect(string(conn[KeyURI])).To(Equal("redis://:pw@192.0.2.7:6379/0"))

	res, err := Render(in)
	g.Expect(err).NotTo(HaveOccurred())
	exp := find(res.Objects, "Service", res.Namespace, "orders-external")
	g.Expect(field(exp, "spec.type")).To(Equal("LoadBalancer"))
	g.Expect(field(exp, "spec.selector")).To(HaveKeyWithValue("redisfailovers-role", "master"))
	g.Expect(field(exp, "spec.ports")).To(ConsistOf(HaveKeyWithValue("port", int64(6379))))
}
