package spokeinstall

import (
	"fmt"
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/berth-io/berth/spoke/agent"
	"github.com/berth-io/berth/spoke/inventory"
)

func TestOptionsValidate(t *testing.T) {
	valid := Options{MemberName: "edge-1", HubNamespace: "berth-member-edge-1", Image: "img", HubKubeconfig: []byte("k")}
	testCases := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{name: "valid", mutate: func(*Options) {}},
		{name: "bad member name", mutate: func(o *Options) { o.MemberName = "Edge_1" }, wantErr: "memberName"},
		{name: "no namespace", mutate: func(o *Options) { o.HubNamespace = "" }, wantErr: "hubNamespace"},
		{name: "no image", mutate: func(o *Options) { o.Image = "" }, wantErr: "image"},
		{name: "no kubeconfig", mutate: func(o *Options) { o.HubKubeconfig = nil }, wantErr: "hubKubeconfig"},
		{name: "exposure CIDRs", mutate: func(o *Options) { o.ExposureSourceCIDRs = []string{"10.0.0.0/8", "fd00::/8"} }},
		{name: "bad exposure CIDR", mutate: func(o *Options) { o.ExposureSourceCIDRs = []string{"10.0.0.1"} }, wantErr: `exposureSourceCIDRs: "10.0.0.1" is not a CIDR`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			o := valid
			tc.mutate(&o)
			err := o.Validate()
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestRulesAreExplicit(t *testing.T) {
	g := NewWithT(t)
	for _, r := range append(Rules(), NamespaceRules()...) {
		g.Expect(r.APIGroups).NotTo(ContainElement("*"))
		g.Expect(r.Resources).NotTo(ContainElement("*"))
		g.Expect(r.Verbs).NotTo(ContainElements("*", "escalate", "bind", "impersonate"))
		g.Expect(r.Resources).NotTo(ContainElements("customresourcedefinitions/status", "nodes/proxy"))
		if slices.Contains(r.Resources, "clusterroles") || slices.Contains(r.Resources, "clusterrolebindings") {
			g.Expect(r.Verbs).To(ConsistOf("list", "watch"), "cluster RBAC is only ever watched (operator discovery)")
		}
	}
}

// grants reports whether rules allow verb on group/resource.
func grants(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) && len(r.ResourceNames) == 0 {
			return true
		}
	}
	return false
}

func TestRulesGrantWhatTheSpokeNeeds(t *testing.T) {
	testCases := []struct {
		name                  string
		group, resource, verb string
	}{
		// Operator discovery (inventory.DiscoverOperatorNamespaces).
		{"watch ClusterRoles", "rbac.authorization.k8s.io", "clusterroles", "watch"},
		{"list ClusterRoles", "rbac.authorization.k8s.io", "clusterroles", "list"},
		{"watch ClusterRoleBindings", "rbac.authorization.k8s.io", "clusterrolebindings", "watch"},
		{"list ClusterRoleBindings", "rbac.authorization.k8s.io", "clusterrolebindings", "list"},
		{"watch Deployments", "apps", "deployments", "watch"},
		{"list Deployments", "apps", "deployments", "list"},
		// The applied-work record in the spoke's system namespace.
		{"create the system namespace", "", "namespaces", "create"},
		{"create records", "", "configmaps", "create"},
		{"update records", "", "configmaps", "update"},
		{"delete records", "", "configmaps", "delete"},
		{"watch records", "", "configmaps", "watch"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(grants(Rules(), tc.group, tc.resource, tc.verb)).To(BeTrue())
		})
	}
	// And no write on cluster RBAC.
	g := NewWithT(t)
	for _, verb := range []string{"get", "create", "update", "patch", "delete"} {
		g.Expect(grants(Rules(), "rbac.authorization.k8s.io", "clusterroles", verb)).To(BeFalse(), verb)
		g.Expect(grants(Rules(), "rbac.authorization.k8s.io", "clusterrolebindings", verb)).To(BeFalse(), verb)
	}
}

// TestRulesCoverTheInventory checks that an installed spoke holds every
// cluster-wide permission its inventory Collector asks for.
func TestRulesCoverTheInventory(t *testing.T) {
	g := NewWithT(t)
	for _, r := range inventory.PolicyRules() {
		for _, group := range r.APIGroups {
			for _, resource := range r.Resources {
				for _, verb := range r.Verbs {
					g.Expect(grants(Rules(), group, resource, verb)).To(BeTrue(), "%s %s/%s", verb, group, resource)
				}
			}
		}
	}
}

func TestApplyConfigurations(t *testing.T) {
	g := NewWithT(t)
	acs := ApplyConfigurations(Options{MemberName: "edge-1", HubNamespace: "berth-member-edge-1", Image: "reg/berth-spoke:v1", HubKubeconfig: []byte("kc")})
	g.Expect(acs).To(HaveLen(9))
	ns, ok := acs[0].(*corev1ac.NamespaceApplyConfiguration)
	g.Expect(ok).To(BeTrue(), "the Namespace is applied first")
	g.Expect(*ns.Name).To(Equal(Namespace))
	secret := acs[6].(*corev1ac.SecretApplyConfiguration)
	g.Expect(secret.Data).To(HaveKeyWithValue("kubeconfig", []byte("kc")))
	dep := acs[7].(*appsv1ac.DeploymentApplyConfiguration)
	c := dep.Spec.Template.Spec.Containers[0]
	g.Expect(*c.Image).To(Equal("reg/berth-spoke:v1"))
	g.Expect(c.Args).To(ContainElements("--member-name=edge-1", "--hub-namespace=berth-member-edge-1", "--hub-kubeconfig=/etc/berth/hub/kubeconfig"))
	g.Expect(*dep.Spec.Template.Spec.ServiceAccountName).To(Equal(Name))
	g.Expect(*c.SecurityContext.RunAsNonRoot).To(BeTrue())
	// Peers probe the spoke on its pod IP: the agent advertises $POD_IP
	// with the probe port when it listens on all addresses.
	g.Expect(c.Args).To(ContainElement(fmt.Sprintf("--probe-listen=:%d", ProbePort)))
	g.Expect(c.Env).To(HaveLen(1))
	g.Expect(*c.Env[0].Name).To(Equal("POD_IP"))
	g.Expect(*c.Env[0].ValueFrom.FieldRef.FieldPath).To(Equal("status.podIP"))
	var ports []int32
	for _, p := range c.Ports {
		ports = append(ports, *p.ContainerPort)
	}
	g.Expect(ports).To(ContainElement(int32(ProbePort)))
	g.Expect(agent.DefaultProbeListen).To(Equal(fmt.Sprintf(":%d", ProbePort)), "the installed spoke listens where berth-spoke does by default")
	g.Expect(c.Args).NotTo(ContainElement(HavePrefix("--exposure-source-cidr")), "no ranges: every source")
	svc := acs[8].(*corev1ac.ServiceApplyConfiguration)
	g.Expect(*svc.Name).To(Equal(MetricsService))
	g.Expect(svc.Spec.Selector).To(Equal(dep.Spec.Selector.MatchLabels))

	acs = ApplyConfigurations(Options{MemberName: "edge-1", HubNamespace: "berth-member-edge-1", Image: "img", HubKubeconfig: []byte("kc"),
		ExposureSourceCIDRs: []string{"10.0.0.0/8", "192.168.0.0/16"}})
	c = acs[7].(*appsv1ac.DeploymentApplyConfiguration).Spec.Template.Spec.Containers[0]
	g.Expect(c.Args).To(ContainElement("--exposure-source-cidr=10.0.0.0/8,192.168.0.0/16"))
}
