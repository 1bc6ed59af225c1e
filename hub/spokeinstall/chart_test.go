package spokeinstall

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/berth-io/berth/deploy/samples"
)

// renderedBase is the kustomize base rendered from the Helm chart in spoke
// mode (hack/deploygen; `make verify` keeps it current).
var renderedBase = filepath.Join("..", "..", "deploy", "spoke", "berth.yaml")

// TestChartInstallsTheSameSpoke: a spoke installed from deploy/ (the chart,
// or the kustomize base rendered from it) runs exactly like the one the hub
// installs: the same RBAC, arguments, ports, probes, security and
// resources. The base sets the member's name through $(BERTH_MEMBER_NAME).
func TestChartInstallsTheSameSpoke(t *testing.T) {
	g := NewWithT(t)
	raw, err := os.ReadFile(renderedBase)
	g.Expect(err).NotTo(HaveOccurred())
	objs, err := samples.Decode(raw)
	g.Expect(err).NotTo(HaveOccurred())
	byKind := map[string][]byte{}
	for _, o := range objs {
		b, err := json.Marshal(o.Object)
		g.Expect(err).NotTo(HaveOccurred())
		byKind[o.GetKind()] = b
	}

	const member = "$(BERTH_MEMBER_NAME)"
	want := map[string][]byte{}
	for _, ac := range ApplyConfigurations(Options{MemberName: member, HubNamespace: "berth-member-" + member, Image: "ghcr.io/berth-io/berth-spoke:0.1.0", HubKubeconfig: []byte("x")}) {
		b, err := json.Marshal(ac)
		g.Expect(err).NotTo(HaveOccurred())
		var kind struct{ Kind string }
		g.Expect(json.Unmarshal(b, &kind)).To(Succeed())
		want[kind.Kind] = b
	}
	decode := func(b []byte, into runtime.Object) {
		g.Expect(json.Unmarshal(b, into)).To(Succeed())
	}

	var chartRole, installRole rbacv1.ClusterRole
	decode(byKind["ClusterRole"], &chartRole)
	decode(want["ClusterRole"], &installRole)
	g.Expect(chartRole.Rules).To(Equal(installRole.Rules), "ClusterRole rules")
	var chartNSRole, installNSRole rbacv1.Role
	decode(byKind["Role"], &chartNSRole)
	decode(want["Role"], &installNSRole)
	g.Expect(chartNSRole.Rules).To(Equal(installNSRole.Rules), "Role rules")

	var chart, install appsv1.Deployment
	decode(byKind["Deployment"], &chart)
	decode(want["Deployment"], &install)
	g.Expect(chart.Spec.Strategy).To(Equal(install.Spec.Strategy))
	g.Expect(chart.Spec.Template.Spec.ServiceAccountName).To(Equal(install.Spec.Template.Spec.ServiceAccountName))
	g.Expect(chart.Spec.Template.Spec.SecurityContext).To(Equal(install.Spec.Template.Spec.SecurityContext))
	g.Expect(chart.Spec.Template.Spec.Volumes).To(Equal(install.Spec.Template.Spec.Volumes))
	g.Expect(chart.Spec.Template.Labels).To(HaveKeyWithValue("app.kubernetes.io/name", Name))

	cc, ic := chart.Spec.Template.Spec.Containers[0], install.Spec.Template.Spec.Containers[0]
	g.Expect(cc.Name).To(Equal(ic.Name))
	g.Expect(slices.Sorted(slices.Values(cc.Args))).To(Equal(slices.Sorted(slices.Values(ic.Args))), "arguments")
	g.Expect(cc.Ports).To(Equal(ic.Ports))
	g.Expect(cc.SecurityContext).To(Equal(ic.SecurityContext))
	g.Expect(cc.Resources).To(Equal(ic.Resources))
	g.Expect(cc.VolumeMounts).To(Equal(ic.VolumeMounts))
	// The base adds the variable that carries the member's name.
	env := slices.DeleteFunc(slices.Clone(cc.Env), func(e corev1.EnvVar) bool { return strings.HasPrefix(e.Name, "BERTH_") })
	g.Expect(env).To(Equal(ic.Env))
	for _, p := range []struct{ chart, install *corev1.Probe }{{cc.ReadinessProbe, ic.ReadinessProbe}, {cc.LivenessProbe, ic.LivenessProbe}} {
		g.Expect(p.chart).NotTo(BeNil())
		g.Expect(p.chart.HTTPGet.Path).To(Equal(p.install.HTTPGet.Path))
		g.Expect(portNumber(cc, p.chart.HTTPGet.Port.String())).To(Equal(p.install.HTTPGet.Port.IntVal))
		g.Expect(p.chart.PeriodSeconds).To(Equal(p.install.PeriodSeconds))
	}

	var chartSvc, installSvc corev1.Service
	decode(byKind["Service"], &chartSvc)
	decode(want["Service"], &installSvc)
	g.Expect(chartSvc.Name).To(Equal(installSvc.Name))
	g.Expect(chartSvc.Spec.Ports).To(Equal(installSvc.Spec.Ports))
}

// portNumber resolves a named container port.
func portNumber(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}
