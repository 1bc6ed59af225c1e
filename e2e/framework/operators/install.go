package operators

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldOwner is the server-side apply field manager of everything Install
// writes.
const FieldOwner = "berth-e2e-operators"

// crdEstablishTimeout bounds the wait for an installed CRD to be served.
const crdEstablishTimeout = time.Minute

// verbs used in the ClusterRoles, spelled as in the operators' manifests.
var (
	allVerbs   = []string{"*"}
	crudVerbs  = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "get", "list", "update", "watch"}
)

// Install installs ops into the cluster c reaches, each as its official
// manifests do (see Installation): its CRD (waiting until it is
// established), its namespace, ServiceAccount, ClusterRole,
// ClusterRoleBinding and Deployment. It is idempotent: objects are written
// with server-side apply. c's scheme must know the core, apps, rbac and
// apiextensions kinds (framework.NewScheme does). No ops installs all three.
func Install(ctx context.Context, c client.Client, ops ...Operator) error {
	if len(ops) == 0 {
		ops = All()
	}
	if err := checkOperators(ops); err != nil {
		return err
	}
	for _, op := range ops {
		if err := install(ctx, c, op); err != nil {
			return fmt.Errorf("installing %s: %w", op, err)
		}
	}
	return nil
}

func install(ctx context.Context, c client.Client, op Operator) error {
	in, err := InstallationOf(op)
	if err != nil {
		return err
	}
	crd, err := CRD(op)
	if err != nil {
		return err
	}
	if err := apply(ctx, c, crd); err != nil {
		return err
	}
	if err := waitEstablished(ctx, c, crd.Name); err != nil {
		return err
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: in.Namespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: in.ServiceAccount, Namespace: in.Namespace, Labels: operatorLabels(in)}},
	}
	for _, role := range clusterRoles(in) {
		objs = append(objs, role)
	}
	objs = append(objs,
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: in.ClusterRoleBinding, Labels: operatorLabels(in)},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: in.ClusterRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: in.ServiceAccount, Namespace: in.Namespace}},
		},
		deployment(in),
	)
	for _, obj := range objs {
		if err := apply(ctx, c, obj); err != nil {
			return err
		}
	}
	return nil
}

// operatorLabels are the labels of an operator's own objects, after its
// manifests (app.kubernetes.io/name is the Deployment's selector).
func operatorLabels(in Installation) map[string]string {
	switch in.Operator {
	case RabbitMQ:
		// config/manager/manager.yaml
		return map[string]string{
			"app.kubernetes.io/name": in.Deployment, "app.kubernetes.io/component": in.Deployment, "app.kubernetes.io/part-of": "rabbitmq",
		}
	default:
		// charts/postgres-operator and charts/redisoperator templates.
		return map[string]string{"app.kubernetes.io/name": in.Deployment, "app.kubernetes.io/instance": in.Deployment}
	}
}

// deployment runs the operator under its ServiceAccount. On kwok nodes the
// container never runs; it only marks where the operator lives.
func deployment(in Installation) *appsv1.Deployment {
	labels := operatorLabels(in)
	var env []corev1.EnvVar
	switch in.Operator {
	case Zalando:
		// charts/postgres-operator/templates/deployment.yaml
		env = []corev1.EnvVar{{Name: "CONFIG_MAP_NAME", Value: in.Deployment}}
	case RabbitMQ:
		// config/manager/manager.yaml: OPERATOR_NAMESPACE is required.
		env = []corev1.EnvVar{{Name: "OPERATOR_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"},
		}}}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: in.Deployment, Namespace: in.Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: in.ServiceAccount,
					Containers: []corev1.Container{{
						Name: "operator", Image: in.Image, Env: env,
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("250Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("500Mi")},
						},
					}},
				},
			},
		},
	}
}

// clusterRoles are the operator's ClusterRole, with the rules of its
// manifests, and for Zalando also the postgres-pod ClusterRole its pods'
// RoleBindings refer to.
func clusterRoles(in Installation) []*rbacv1.ClusterRole {
	role := func(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: operatorLabels(in)}, Rules: rules}
	}
	rule := func(group string, resources []string, verbs []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{group}, Resources: resources, Verbs: verbs}
	}
	switch in.Operator {
	case Zalando:
		// manifests/operator-service-account-rbac.yaml
		return []*rbacv1.ClusterRole{
			role(in.ClusterRole,
				rule("acid.zalan.do", []string{"postgresqls", "postgresqls/status", "operatorconfigurations"}, crudVerbs),
				rule("apiextensions.k8s.io", []string{"customresourcedefinitions"}, []string{"create", "get", "patch", "update"}),
				rule("", []string{"configmaps"}, []string{"get"}),
				rule("", []string{"events"}, []string{"create"}),
				rule("", []string{"endpoints"}, crudVerbs),
				rule("", []string{"secrets"}, []string{"create", "delete", "get", "update"}),
				rule("", []string{"nodes"}, readVerbs),
				rule("", []string{"persistentvolumeclaims"}, []string{"delete", "get", "list", "patch", "update"}),
				rule("", []string{"persistentvolumes"}, []string{"get", "list", "update"}),
				rule("", []string{"pods"}, []string{"delete", "get", "list", "patch", "update", "watch"}),
				rule("", []string{"pods/exec"}, []string{"create"}),
				rule("", []string{"services"}, []string{"create", "delete", "get", "patch", "update"}),
				rule("apps", []string{"statefulsets", "deployments"}, []string{"create", "delete", "get", "list", "patch"}),
				rule("batch", []string{"cronjobs"}, []string{"create", "delete", "get", "list", "patch", "update"}),
				rule("", []string{"namespaces"}, []string{"get"}),
				rule("policy", []string{"poddisruptionbudgets"}, []string{"create", "delete", "get"}),
				rule("", []string{"serviceaccounts"}, []string{"get", "create"}),
				rule("rbac.authorization.k8s.io", []string{"rolebindings"}, []string{"get", "create"}),
			),
			// The same file's postgres-pod ClusterRole, bound per namespace to
			// the pods' ServiceAccount by the operator.
			role(zalandoPodRBACName,
				rule("", []string{"endpoints"}, crudVerbs),
				rule("", []string{"pods"}, []string{"get", "list", "patch", "update", "watch"}),
				rule("", []string{"services"}, []string{"create"}),
			),
		}
	case Spotahome:
		// example/operator/all-redis-operator-resources.yaml
		return []*rbacv1.ClusterRole{role(in.ClusterRole,
			rule("databases.spotahome.com", []string{"redisfailovers", "redisfailovers/finalizers"}, allVerbs),
			rule("apiextensions.k8s.io", []string{"customresourcedefinitions"}, allVerbs),
			rule("", []string{"pods", "services", "endpoints", "events", "configmaps", "persistentvolumeclaims", "persistentvolumeclaims/finalizers"}, allVerbs),
			rule("", []string{"secrets"}, []string{"get"}),
			rule("apps", []string{"deployments", "statefulsets"}, allVerbs),
			rule("policy", []string{"poddisruptionbudgets"}, allVerbs),
			rule("coordination.k8s.io", []string{"leases"}, allVerbs),
		)}
	default:
		// config/rbac/role.yaml
		return []*rbacv1.ClusterRole{role(in.ClusterRole,
			rule("", []string{"configmaps", "persistentvolumeclaims", "secrets", "serviceaccounts", "services"}, writeVerbs),
			rule("", []string{"endpoints"}, readVerbs),
			// ClusterAvailable reads the client Service's EndpointSlices
			// (operators.md RabbitMQ §5).
			rule("discovery.k8s.io", []string{"endpointslices"}, readVerbs),
			rule("", []string{"events"}, []string{"create", "get", "patch"}),
			rule("", []string{"pods"}, []string{"get", "list", "update", "watch"}),
			rule("", []string{"pods/exec"}, []string{"create"}),
			rule("apps", []string{"statefulsets"}, []string{"create", "delete", "get", "list", "update", "watch"}),
			rule("rabbitmq.com", []string{"rabbitmqclusters"}, writeVerbs),
			rule("rabbitmq.com", []string{"rabbitmqclusters/finalizers"}, []string{"update"}),
			rule("rabbitmq.com", []string{"rabbitmqclusters/status"}, []string{"get", "update"}),
			rule("rbac.authorization.k8s.io", []string{"rolebindings", "roles"}, writeVerbs),
		)}
	}
}

// apply writes obj with server-side apply, owning every field it sets.
func apply(ctx context.Context, c client.Client, obj client.Object) error {
	gvk, err := c.GroupVersionKindFor(obj)
	if err != nil {
		return fmt.Errorf("kind of %T: %w", obj, err)
	}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return fmt.Errorf("converting %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	u := &unstructured.Unstructured{Object: raw}
	u.SetGroupVersionKind(gvk)
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", gvk.Kind, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// waitEstablished waits until the named CRD is Established.
func waitEstablished(ctx context.Context, c client.Client, name string) error {
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, crdEstablishTimeout, true, func(ctx context.Context) (bool, error) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for CRD %s to be established: %w", name, err)
	}
	return nil
}
