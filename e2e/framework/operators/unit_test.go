package operators

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestOptionsValidate(t *testing.T) {
	testCases := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "zero value", opts: Options{}},
		{name: "one operator", opts: Options{Operators: []Operator{RabbitMQ}, SpotahomeResync: time.Second}},
		{name: "unknown operator", opts: Options{Operators: []Operator{"Mongo"}}, wantErr: `operators: unknown operator "Mongo"`},
		{name: "repeated operator", opts: Options{Operators: []Operator{Zalando, Zalando}}, wantErr: `operators: operator "ZalandoPostgres" is listed twice`},
		{name: "negative resync", opts: Options{SpotahomeResync: -time.Second}, wantErr: "spotahomeResync: -1s must not be negative"},
		{name: "negative requeue", opts: Options{RabbitMQRequeue: -time.Second}, wantErr: "rabbitMQRequeue: -1s"},
		{name: "negative check interval", opts: Options{ZalandoCheckInterval: -time.Second}, wantErr: "zalandoCheckInterval: -1s"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := tc.opts.Validate()
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestCRDs(t *testing.T) {
	testCases := []struct {
		op         Operator
		kind       string
		wantStatus bool
	}{
		{op: Zalando, kind: "postgresql", wantStatus: true},
		{op: Spotahome, kind: "RedisFailover", wantStatus: false},
		{op: RabbitMQ, kind: "RabbitmqCluster", wantStatus: true},
	}
	for _, tc := range testCases {
		t.Run(string(tc.op), func(t *testing.T) {
			g := NewWithT(t)
			crd, err := CRD(tc.op)
			g.Expect(err).NotTo(HaveOccurred())
			in, err := InstallationOf(tc.op)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(crd.Name).To(Equal(in.Resource + "." + in.GVK.Group))
			g.Expect(crd.Spec.Names.Kind).To(Equal(tc.kind))
			g.Expect(crd.Spec.Versions).To(HaveLen(1))
			g.Expect(crd.Spec.Versions[0].Name).To(Equal(in.GVK.Version))
			hasStatus := crd.Spec.Versions[0].Subresources != nil && crd.Spec.Versions[0].Subresources.Status != nil
			g.Expect(hasStatus).To(Equal(tc.wantStatus), "status subresource")
		})
	}
	_, err := CRD("Mongo")
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring(`unknown operator "Mongo"`)))
}

func TestZalandoSecretNames(t *testing.T) {
	g := NewWithT(t)
	g.Expect(ZalandoSecretName("app_user", "berth-orders")).To(Equal("app-user.berth-orders.credentials.postgresql.acid.zalan.do"))
	spec := zalandoSpec{Users: map[string][]string{"zed": {"createdb"}, "app_user": nil, "reader": {"NOLOGIN"}}}
	g.Expect(zalandoSecretNames("c", spec)).To(Equal([]string{
		"postgres.c" + ZalandoSecretSuffix, "standby.c" + ZalandoSecretSuffix,
		"app-user.c" + ZalandoSecretSuffix, "zed.c" + ZalandoSecretSuffix,
	}))
}

func TestAssignRoles(t *testing.T) {
	pod := func(name, role string, phase corev1.PodPhase) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}, Status: corev1.PodStatus{Phase: phase}}
		if role != "" {
			p.Labels["role"] = role
		}
		return p
	}
	testCases := []struct {
		name string
		pods []corev1.Pod
		want map[string]string
	}{
		{name: "none running", pods: []corev1.Pod{pod("db-0", "", corev1.PodPending)}, want: map[string]string{}},
		{
			name: "lowest ordinal first",
			pods: []corev1.Pod{pod("db-10", "", corev1.PodRunning), pod("db-2", "", corev1.PodRunning)},
			want: map[string]string{"db-2": "master", "db-10": "replica"},
		},
		{
			name: "running master kept",
			pods: []corev1.Pod{pod("db-0", "replica", corev1.PodRunning), pod("db-1", "master", corev1.PodRunning)},
			want: map[string]string{"db-0": "replica", "db-1": "master"},
		},
		{
			name: "master not running is replaced",
			pods: []corev1.Pod{pod("db-0", "master", corev1.PodFailed), pod("db-1", "replica", corev1.PodRunning)},
			want: map[string]string{"db-1": "master"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(assignRoles(tc.pods, "role", "master", "replica")).To(Equal(tc.want))
		})
	}
}

func TestSpotahomeLabels(t *testing.T) {
	rf := &unstructured.Unstructured{}
	rf.SetName("orders")
	rf.SetLabels(map[string]string{"team": "shop", "fleet.berth.io/servicework": "w", "app.kubernetes.io/managed-by": "berth"})
	testCases := []struct {
		name      string
		whitelist []string
		want      map[string]string
	}{
		{
			name: "every label, a resource label wins",
			want: map[string]string{"team": "shop", "fleet.berth.io/servicework": "w", "app.kubernetes.io/managed-by": "berth", SpotahomeNameLabel: "orders"},
		},
		{
			name: "whitelist", whitelist: []string{"^fleet\\.", "("},
			want: map[string]string{"fleet.berth.io/servicework": "w", "app.kubernetes.io/managed-by": "redis-operator", SpotahomeNameLabel: "orders"},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(spotahomeLabels(rf, spotahomeSpec{LabelWhitelist: tc.whitelist})).To(Equal(tc.want))
		})
	}
}

func TestRabbitMQLabelsAndVersions(t *testing.T) {
	g := NewWithT(t)
	rmq := &unstructured.Unstructured{}
	rmq.SetName("events")
	rmq.SetLabels(map[string]string{"team": "shop", "app.kubernetes.io/instance": "x", "app.kubernetes.io/name": "other"})
	g.Expect(rabbitmqLabels(rmq)).To(Equal(map[string]string{
		"team": "shop", "app.kubernetes.io/name": "events", "app.kubernetes.io/component": "rabbitmq", "app.kubernetes.io/part-of": "rabbitmq",
	}))
	for version, want := range map[string]bool{"": true, "3.13": true, "3.13.7": true, "4.0.9": true, "4.1": false, "4.1.0": false, "5.0": false, "junk": true} {
		g.Expect(rabbitmqNeedsPeerDiscoveryRole(version)).To(Equal(want), "version %q", version)
	}
	for image, want := range map[string]string{
		"rabbitmq:3.13-management": "3.13", "rabbitmq:4.1.0-management": "4.1.0", "registry:5000/rabbitmq:4.1": "4.1", "rabbitmq": "", "rabbitmq:latest": "",
	} {
		g.Expect(rabbitmqImageVersion(image)).To(Equal(want), "image %q", image)
	}
}
