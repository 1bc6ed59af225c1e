package spokeinstall

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hub/kubeconfig"
)

// Names of the objects installed into a member cluster.
const (
	// Namespace holds the spoke.
	Namespace = "berth-system"
	// Name of the ServiceAccount, ClusterRole, ClusterRoleBinding, Role,
	// RoleBinding and Deployment.
	Name = "berth-spoke"
	// SecretName is the Secret with the spoke's hub kubeconfig.
	SecretName = "hub-kubeconfig"
	// FieldManager applies every object.
	FieldManager = "berth-hub"
	// HubKubeconfigDir is where the pod mounts SecretName.
	HubKubeconfigDir = "/etc/berth/hub"
	// MetricsService is the Service in front of the spoke's metrics port,
	// for a Prometheus in the member cluster.
	MetricsService = "berth-spoke-metrics"
	// MetricsPort and HealthPort are the spoke's listeners in the pod.
	MetricsPort = 8080
	// HealthPort serves /healthz and /readyz.
	HealthPort = 8081
	// ProbePort serves the TCP latency probe that peers dial; the spoke
	// advertises it on the pod IP ($POD_IP).
	ProbePort = 9473
)

// Options is what to install.
type Options struct {
	// MemberName is the MemberCluster's name.
	MemberName string
	// HubNamespace is the member's hub namespace.
	HubNamespace string
	// Image of berth-spoke.
	Image string
	// HubKubeconfig is the content of the hub-kubeconfig Secret.
	HubKubeconfig []byte
	// ExposureSourceCIDRs may reach the member's remote exposures
	// (--exposure-source-cidr); empty allows every source.
	ExposureSourceCIDRs []string
}

// nonRootID is the user and group of berth's images (hack/images).
const nonRootID = 65532

// Validate names the first field that is missing.
func (o Options) Validate() error {
	var errs []error
	if errs2 := validation.IsDNS1123Label(o.MemberName); len(errs2) > 0 {
		errs = append(errs, fmt.Errorf("memberName %q: %v", o.MemberName, errs2))
	}
	if o.HubNamespace == "" {
		errs = append(errs, errors.New("hubNamespace: must not be empty"))
	}
	if o.Image == "" {
		errs = append(errs, errors.New("image: must not be empty"))
	}
	if len(o.HubKubeconfig) == 0 {
		errs = append(errs, errors.New("hubKubeconfig: must not be empty"))
	}
	for _, c := range o.ExposureSourceCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, fmt.Errorf("exposureSourceCIDRs: %q is not a CIDR: %w", c, err))
		}
	}
	return errors.Join(errs...)
}

var (
	readOnly = []string{"get", "list", "watch"}
	manage   = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
)

// Rules is the spoke's ClusterRole in a member cluster: read what inventory
// needs, manage exactly the kinds the spoke renders, and record events.
func Rules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		// Inventory: node pools, requested resources, capabilities.
		{APIGroups: []string{""}, Resources: []string{"nodes", "pods"}, Verbs: readOnly},
		{APIGroups: []string{"apiextensions.k8s.io"}, Resources: []string{"customresourcedefinitions"}, Verbs: readOnly},
		// Readiness of operator-managed workloads (the rfr-/rfs- Redis
		// workloads), and operator discovery: where each operator's
		// Deployment runs (inventory.DiscoverOperatorNamespaces).
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: readOnly},
		// Operator discovery: which ServiceAccounts a ClusterRole lets write
		// an operator's resources. Read through informers only: no get, and
		// never a write (that would be privilege escalation).
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "clusterrolebindings"}, Verbs: []string{"list", "watch"}},
		// What the spoke renders: the service, its guard rails and the
		// consumer binding; also the spoke's own system namespace (created
		// when missing) and the per-work record ConfigMaps in it.
		{APIGroups: []string{""}, Resources: []string{
			"namespaces", "services", "secrets", "configmaps", "serviceaccounts",
			"persistentvolumeclaims", "resourcequotas", "limitranges",
		}, Verbs: manage},
		{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: manage},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: manage},
		{APIGroups: []string{"scheduling.k8s.io"}, Resources: []string{"priorityclasses"}, Verbs: manage},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: manage},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: manage},
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, Verbs: manage},
		{APIGroups: []string{"cilium.io"}, Resources: []string{"ciliumnetworkpolicies"}, Verbs: manage},
		{APIGroups: []string{"acid.zalan.do"}, Resources: []string{"postgresqls"}, Verbs: manage},
		{APIGroups: []string{"databases.spotahome.com"}, Resources: []string{"redisfailovers"}, Verbs: manage},
		{APIGroups: []string{"rabbitmq.com"}, Resources: []string{"rabbitmqclusters"}, Verbs: manage},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}
}

// NamespaceRules is the spoke's Role in berth-system: its leader election
// Lease.
func NamespaceRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
	}
}

func ruleApply(rules []rbacv1.PolicyRule) []*rbacv1ac.PolicyRuleApplyConfiguration {
	out := make([]*rbacv1ac.PolicyRuleApplyConfiguration, 0, len(rules))
	for _, r := range rules {
		ac := rbacv1ac.PolicyRule().WithAPIGroups(r.APIGroups...).WithResources(r.Resources...).WithVerbs(r.Verbs...)
		if len(r.ResourceNames) > 0 {
			ac.WithResourceNames(r.ResourceNames...)
		}
		out = append(out, ac)
	}
	return out
}

func labels(member string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       Name,
		"app.kubernetes.io/managed-by": "berth-hub",
		fleetv1alpha1.LabelMember:      member,
	}
}

// ApplyConfigurations returns the objects to install, in apply order.
func ApplyConfigurations(o Options) []runtime.ApplyConfiguration {
	l := labels(o.MemberName)
	selector := map[string]string{"app.kubernetes.io/name": Name}
	args := []string{
		"--member-name=" + o.MemberName,
		"--hub-kubeconfig=" + HubKubeconfigDir + "/" + kubeconfig.SecretKey,
		"--hub-namespace=" + o.HubNamespace,
		fmt.Sprintf("--metrics-bind-address=:%d", MetricsPort),
		fmt.Sprintf("--health-probe-bind-address=:%d", HealthPort),
		fmt.Sprintf("--probe-listen=:%d", ProbePort),
	}
	if len(o.ExposureSourceCIDRs) > 0 {
		args = append(args, "--exposure-source-cidr="+strings.Join(o.ExposureSourceCIDRs, ","))
	}
	args = append(args, "--zap-log-level=info")
	probe := func(path string) *corev1ac.ProbeApplyConfiguration {
		return corev1ac.Probe().WithHTTPGet(corev1ac.HTTPGetAction().WithPath(path).WithPort(intstr.FromInt32(HealthPort))).
			WithPeriodSeconds(10)
	}
	container := corev1ac.Container().
		WithName(Name).
		WithImage(o.Image).
		WithArgs(args...).
		WithPorts(
			corev1ac.ContainerPort().WithName("metrics").WithContainerPort(MetricsPort),
			corev1ac.ContainerPort().WithName("health").WithContainerPort(HealthPort),
			corev1ac.ContainerPort().WithName("probe").WithContainerPort(ProbePort),
		).
		// The probe endpoint is advertised on the pod's IP.
		WithEnv(corev1ac.EnvVar().WithName("POD_IP").
			WithValueFrom(corev1ac.EnvVarSource().WithFieldRef(corev1ac.ObjectFieldSelector().WithFieldPath("status.podIP")))).
		WithVolumeMounts(corev1ac.VolumeMount().WithName(SecretName).WithMountPath(HubKubeconfigDir).WithReadOnly(true)).
		WithLivenessProbe(probe("/healthz")).
		WithReadinessProbe(probe("/readyz")).
		WithResources(corev1ac.ResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")}).
			WithLimits(corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")})).
		WithSecurityContext(corev1ac.SecurityContext().
			WithAllowPrivilegeEscalation(false).
			WithReadOnlyRootFilesystem(true).
			WithRunAsNonRoot(true).
			WithCapabilities(corev1ac.Capabilities().WithDrop("ALL")))
	metricsPort := corev1ac.ServicePort().WithName("metrics").WithPort(MetricsPort).WithTargetPort(intstr.FromString("metrics"))

	return []runtime.ApplyConfiguration{
		corev1ac.Namespace(Namespace).WithLabels(l),
		corev1ac.ServiceAccount(Name, Namespace).WithLabels(l),
		rbacv1ac.ClusterRole(Name).WithLabels(l).WithRules(ruleApply(Rules())...),
		rbacv1ac.ClusterRoleBinding(Name).WithLabels(l).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(Name)).
			WithSubjects(rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithName(Name).WithNamespace(Namespace)),
		rbacv1ac.Role(Name, Namespace).WithLabels(l).WithRules(ruleApply(NamespaceRules())...),
		rbacv1ac.RoleBinding(Name, Namespace).WithLabels(l).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("Role").WithName(Name)).
			WithSubjects(rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithName(Name).WithNamespace(Namespace)),
		corev1ac.Secret(SecretName, Namespace).WithLabels(l).WithType(corev1.SecretTypeOpaque).
			WithData(map[string][]byte{kubeconfig.SecretKey: o.HubKubeconfig}),
		appsv1ac.Deployment(Name, Namespace).WithLabels(l).WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(1).
			WithStrategy(appsv1ac.DeploymentStrategy().WithType(appsv1.RecreateDeploymentStrategyType)).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selector)).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(l).
				WithSpec(corev1ac.PodSpec().
					WithServiceAccountName(Name).
					WithSecurityContext(corev1ac.PodSecurityContext().
						WithRunAsNonRoot(true).
						WithRunAsUser(nonRootID).
						WithRunAsGroup(nonRootID).
						WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
					WithContainers(container).
					WithVolumes(corev1ac.Volume().WithName(SecretName).
						WithSecret(corev1ac.SecretVolumeSource().WithSecretName(SecretName)))))),
		corev1ac.Service(MetricsService, Namespace).WithLabels(l).WithSpec(corev1ac.ServiceSpec().
			WithSelector(selector).WithPorts(metricsPort)),
	}
}

// Apply installs or updates the spoke in the cluster c reaches.
func Apply(ctx context.Context, c client.Client, o Options) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("invalid spoke install options: %w", err)
	}
	for _, ac := range ApplyConfigurations(o) {
		if err := c.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s: %w", describe(ac), err)
		}
	}
	return nil
}

// Delete removes the spoke: the berth-system Namespace and the
// cluster-scoped RBAC. Objects that are already gone are not an error.
func Delete(ctx context.Context, c client.Client) error {
	objs := []client.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: MetricsService, Namespace: Namespace}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: Name}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: Name}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}},
	}
	for _, o := range objs {
		if err := c.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

func describe(ac runtime.ApplyConfiguration) string {
	type named interface {
		GetName() *string
		GetKind() *string
	}
	if n, ok := ac.(named); ok && n.GetName() != nil && n.GetKind() != nil {
		return *n.GetKind() + " " + *n.GetName()
	}
	return fmt.Sprintf("%T", ac)
}
