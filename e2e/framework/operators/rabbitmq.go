package operators

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// RabbitMQ cluster-operator names and defaults. Source: rabbitmq/cluster-operator
// 06cda8e8; R = internal/resource/, CT =
// internal/controller/rabbitmqcluster_controller.go.
const (
	// RabbitMQFinalizer is added to every RabbitmqCluster
	// (internal/controller/reconcile_finalizer.go).
	RabbitMQFinalizer = "deletion.finalizers.rabbitmqclusters.rabbitmq.com"
	// RabbitMQVersionAnnotation holds the RabbitMQ version the operator
	// found running (CT).
	RabbitMQVersionAnnotation = "rabbitmq.com/version"
	// RabbitMQPauseLabel set to "true" stops reconciling a cluster (CT).
	RabbitMQPauseLabel = "rabbitmq.com/pauseReconciliation"
	// RabbitMQDeletionMarker labels pods of a cluster being deleted so their
	// preStop hook skips its checks (R statefulset.go DeletionMarker).
	RabbitMQDeletionMarker = "skipPreStopChecks"

	// Condition types of status.conditions
	// (api/v1beta1/rabbitmqcluster_status.go, internal/status).
	RabbitMQAllReplicasReady = "AllReplicasReady"
	RabbitMQClusterAvailable = "ClusterAvailable"
	RabbitMQNoWarnings       = "NoWarnings"
	RabbitMQReconcileSuccess = "ReconcileSuccess"

	// rabbitmqDefaultImage is what the operator's mutating webhook sets when
	// spec.image is empty.
	rabbitmqDefaultImage = "rabbitmq:4.1.0-management"
	// rabbitmqPartOf is app.kubernetes.io/part-of on every child
	// (internal/metadata/label.go).
	rabbitmqPartOf = "rabbitmq"
)

// rabbitmqAppLabels are the three labels of every child; pods and PVCs get
// only these (internal/metadata/label.go Label).
func rabbitmqAppLabels(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/component": "rabbitmq", "app.kubernetes.io/part-of": rabbitmqPartOf}
}

// rabbitmqLabels are the app labels plus every label of the cluster except
// app.kubernetes.io* ones (internal/metadata/label.go GetLabels).
func rabbitmqLabels(rmq *unstructured.Unstructured) map[string]string {
	out := rabbitmqAppLabels(rmq.GetName())
	for k, v := range rmq.GetLabels() {
		if !strings.HasPrefix(k, "app.kubernetes.io") {
			out[k] = v
		}
	}
	return out
}

// rabbitmqCacheByObject limits the operator's cache of its child kinds to
// objects labelled part-of=rabbitmq, as its manager does (cmd/main.go).
func rabbitmqCacheByObject() map[client.Object]cache.ByObject {
	sel := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{"app.kubernetes.io/part-of": rabbitmqPartOf})}
	out := map[client.Object]cache.ByObject{}
	for _, obj := range []client.Object{
		&appsv1.StatefulSet{}, &corev1.Service{}, &corev1.ConfigMap{}, &corev1.Secret{}, &corev1.ServiceAccount{},
		&rbacv1.Role{}, &rbacv1.RoleBinding{}, &corev1.Pod{}, &discoveryv1.EndpointSlice{},
	} {
		out[obj] = sel
	}
	return out
}

// rabbitmqSpec is what the emulator reads of a RabbitmqCluster's spec; the
// CRD defaults replicas, persistence and service.
type rabbitmqSpec struct {
	Replicas    *int32                       `json:"replicas"`
	Image       string                       `json:"image"`
	Resources   *corev1.ResourceRequirements `json:"resources"`
	Tolerations []corev1.Toleration          `json:"tolerations"`
	Affinity    *corev1.Affinity             `json:"affinity"`
	Service     struct {
		Type corev1.ServiceType `json:"type"`
	} `json:"service"`
	Persistence struct {
		Storage          *resource.Quantity `json:"storage"`
		StorageClassName *string            `json:"storageClassName"`
	} `json:"persistence"`
	Override struct {
		StatefulSet *struct {
			Spec *struct {
				Template *struct {
					Spec json.RawMessage `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		} `json:"statefulSet"`
	} `json:"override"`
}

func (s *rabbitmqSpec) replicas() int32 { return ptr.Deref(s.Replicas, 1) }

// rabbitmqReconciler emulates the RabbitMQ cluster-operator: controller
// references on every child, labels reset from the cluster on every
// reconcile, a finalizer it removes on deletion (the garbage collector and
// the StatefulSet's claim retention policy do the rest), and the status
// conditions berth reads.
type rabbitmqReconciler struct {
	opts   Options
	client client.Client
	reader client.Reader
}

func (r *rabbitmqReconciler) setup(mgr ctrl.Manager) error {
	r.client = mgr.GetClient()
	r.reader = mgr.GetAPIReader()
	rmq := &unstructured.Unstructured{}
	rmq.SetGroupVersionKind(GVKRabbitmqCluster)
	// CT SetupWithManager: the cluster and the kinds it owns.
	return ctrl.NewControllerManagedBy(mgr).
		Named("rabbitmq-cluster").
		For(rmq).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Secret{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Complete(r)
}

// Reconcile follows CT Reconcile: pause label, deletion, finalizer,
// children, status.
func (r *rabbitmqReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	rmq := &unstructured.Unstructured{}
	rmq.SetGroupVersionKind(GVKRabbitmqCluster)
	if err := r.client.Get(ctx, req.NamespacedName, rmq); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if rmq.GetLabels()[RabbitMQPauseLabel] == "true" {
		return reconcile.Result{}, nil
	}
	if rmq.GetDeletionTimestamp() != nil {
		return reconcile.Result{}, r.finalize(ctx, rmq)
	}
	if !controllerutil.ContainsFinalizer(rmq, RabbitMQFinalizer) {
		// The operator Updates the cluster to add its finalizer
		// (reconcile_finalizer.go addFinalizerIfNeeded).
		controllerutil.AddFinalizer(rmq, RabbitMQFinalizer)
		if err := r.client.Update(ctx, rmq); err != nil {
			return reconcile.Result{}, fmt.Errorf("adding the finalizer to %s: %w", req.NamespacedName, err)
		}
	}
	spec := rabbitmqSpec{}
	if err := decodeSpec(rmq, &spec); err != nil {
		return reconcile.Result{}, reconcile.TerminalError(err)
	}
	if spec.Image == "" {
		spec.Image = rabbitmqDefaultImage
	}
	scaleDown, err := r.reconcileChildren(ctx, rmq, spec)
	if err != nil {
		return reconcile.Result{}, err
	}
	return r.reconcileStatus(ctx, rmq, spec, scaleDown)
}

// finalize labels the pods skipPreStopChecks and removes the finalizer
// (reconcile_finalizer.go prepareForDeletion, removeFinalizer); the garbage
// collector deletes the children, and the StatefulSet controller the PVCs.
func (r *rabbitmqReconciler) finalize(ctx context.Context, rmq *unstructured.Unstructured) error {
	if !controllerutil.ContainsFinalizer(rmq, RabbitMQFinalizer) {
		return nil
	}
	pods := &corev1.PodList{}
	if err := r.client.List(ctx, pods, client.InNamespace(rmq.GetNamespace()), client.MatchingLabels{"app.kubernetes.io/name": rmq.GetName()}); err != nil {
		return fmt.Errorf("listing pods of %s/%s: %w", rmq.GetNamespace(), rmq.GetName(), err)
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.Labels[RabbitMQDeletionMarker] == "true" {
			continue
		}
		pod.Labels[RabbitMQDeletionMarker] = "true"
		// The operator's ClusterRole may update pods, not patch them.
		if err := r.client.Update(ctx, pod); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("marking pod %s/%s for deletion: %w", pod.Namespace, pod.Name, err)
		}
	}
	controllerutil.RemoveFinalizer(rmq, RabbitMQFinalizer)
	if err := r.client.Update(ctx, rmq); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing the finalizer of %s/%s: %w", rmq.GetNamespace(), rmq.GetName(), err)
	}
	return nil
}

// reconcileChildren creates or updates every child in the resource
// builder's order (R rabbitmq_resource_builder.go). It reports a refused
// scale-down.
func (r *rabbitmqReconciler) reconcileChildren(ctx context.Context, rmq *unstructured.Unstructured, spec rabbitmqSpec) (scaleDown string, err error) {
	ns, name := rmq.GetNamespace(), rmq.GetName()
	lbls := rabbitmqLabels(rmq)
	selector := map[string]string{"app.kubernetes.io/name": name} // internal/metadata LabelSelector
	owner := func(obj client.Object) {
		obj.SetOwnerReferences([]metav1.OwnerReference{controllerRef(rmq)})
	}
	setLabels := func(obj client.Object) { obj.SetLabels(lbls) }
	meta := func(n string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: n, Namespace: ns} }

	// R headless_service.go: N-nodes, for the Erlang distribution.
	headless := &corev1.Service{ObjectMeta: meta(name + "-nodes")}
	if err := r.createOrUpdate(ctx, headless, func() error {
		setLabels(headless)
		headless.Spec.ClusterIP = corev1.ClusterIPNone
		headless.Spec.Selector = selector
		headless.Spec.PublishNotReadyAddresses = true
		headless.Spec.Ports = []corev1.ServicePort{
			{Name: "epmd", Port: 4369, TargetPort: intstr.FromInt32(4369), Protocol: corev1.ProtocolTCP},
			{Name: "cluster-rpc", Port: 25672, TargetPort: intstr.FromInt32(25672), Protocol: corev1.ProtocolTCP},
		}
		owner(headless)
		return nil
	}); err != nil {
		return "", err
	}
	// R service.go: the client Service N.
	svc := &corev1.Service{ObjectMeta: meta(name)}
	if err := r.createOrUpdate(ctx, svc, func() error {
		setLabels(svc)
		svc.Spec.Type = spec.Service.Type
		if svc.Spec.Type == "" {
			svc.Spec.Type = corev1.ServiceTypeClusterIP
		}
		svc.Spec.Selector = selector
		svc.Spec.Ports = []corev1.ServicePort{
			{Name: "amqp", Port: 5672, TargetPort: intstr.FromInt32(5672), Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To("amqp")},
			{Name: "management", Port: 15672, TargetPort: intstr.FromInt32(15672), Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To("http")},
			{Name: "prometheus", Port: 15692, TargetPort: intstr.FromInt32(15692), Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To("prometheus.io/metrics")},
		}
		owner(svc)
		return nil
	}); err != nil {
		return "", err
	}
	// R erlang_cookie.go: generated once.
	cookie := &corev1.Secret{ObjectMeta: meta(name + "-erlang-cookie")}
	if err := r.createOrUpdate(ctx, cookie, func() error {
		setLabels(cookie)
		if len(cookie.Data[".erlang.cookie"]) == 0 {
			v, err := randomBase64(24)
			if err != nil {
				return err
			}
			cookie.Type = corev1.SecretTypeOpaque
			cookie.Data = map[string][]byte{".erlang.cookie": []byte(v)}
		}
		owner(cookie)
		return nil
	}); err != nil {
		return "", err
	}
	// R default_user_secret.go: credentials generated once; an existing
	// Secret keeps them (CT), only labels and the port are reset.
	user := &corev1.Secret{ObjectMeta: meta(name + "-default-user")}
	if err := r.createOrUpdate(ctx, user, func() error {
		setLabels(user)
		if user.Data == nil {
			user.Data = map[string][]byte{}
		}
		if len(user.Data["username"]) == 0 || len(user.Data["password"]) == 0 {
			if err := rabbitmqDefaultUser(user, name, ns); err != nil {
				return err
			}
		}
		user.Data["port"] = []byte("5672")
		owner(user)
		return nil
	}); err != nil {
		return "", err
	}
	// R configmap.go (plugins) and server_configmap.go: labels set at
	// creation only.
	plugins := &corev1.ConfigMap{ObjectMeta: meta(name + "-plugins-conf")}
	if err := r.createOrUpdate(ctx, plugins, func() error {
		if plugins.CreationTimestamp.IsZero() {
			setLabels(plugins)
		}
		plugins.Data = map[string]string{"enabled_plugins": "[rabbitmq_peer_discovery_k8s,rabbitmq_prometheus,rabbitmq_management]."}
		owner(plugins)
		return nil
	}); err != nil {
		return "", err
	}
	server := &corev1.ConfigMap{ObjectMeta: meta(name + "-server-conf")}
	if err := r.createOrUpdate(ctx, server, func() error {
		if server.CreationTimestamp.IsZero() {
			setLabels(server)
		}
		server.Data = map[string]string{
			"operatorDefaults.conf": "cluster_formation.peer_discovery_backend = rabbit_peer_discovery_k8s\n" +
				"cluster_formation.k8s.host = kubernetes.default\n" +
				"cluster_formation.k8s.address_type = hostname\n" +
				"cluster_partition_handling = pause_minority\n" +
				"queue_master_locator = min-masters\n" +
				"disk_free_limit.absolute = 2GB\n" +
				"cluster_name = " + name + "\n",
			"userDefinedConfiguration.conf": "total_memory_available_override_value = " + rabbitmqMemory(spec) + "\n",
		}
		owner(server)
		return nil
	}); err != nil {
		return "", err
	}
	// R service_account.go, role.go, role_binding.go; the Role and
	// RoleBinding only while the running version is unknown or older than
	// 4.1.0 (CT).
	sa := &corev1.ServiceAccount{ObjectMeta: meta(name + "-server")}
	if err := r.createOrUpdate(ctx, sa, func() error {
		setLabels(sa)
		owner(sa)
		return nil
	}); err != nil {
		return "", err
	}
	if rabbitmqNeedsPeerDiscoveryRole(rmq.GetAnnotations()[RabbitMQVersionAnnotation]) {
		role := &rbacv1.Role{ObjectMeta: meta(name + "-peer-discovery")}
		if err := r.createOrUpdate(ctx, role, func() error {
			setLabels(role)
			role.Rules = []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"endpoints"}, Verbs: []string{"get"}},
				{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
			}
			owner(role)
			return nil
		}); err != nil {
			return "", err
		}
		rb := &rbacv1.RoleBinding{ObjectMeta: meta(name + "-server")}
		if err := r.createOrUpdate(ctx, rb, func() error {
			setLabels(rb)
			rb.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name + "-peer-discovery"}
			rb.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name + "-server"}}
			owner(rb)
			return nil
		}); err != nil {
			return "", err
		}
	}
	sts := &appsv1.StatefulSet{ObjectMeta: meta(name + "-server")}
	err = r.createOrUpdate(ctx, sts, func() error {
		return rabbitmqStatefulSet(sts, rmq, spec, lbls, selector, &scaleDown)
	})
	return scaleDown, err
}

// rabbitmqDefaultUser fills a new default-user Secret: a generated username
// and password, default_user.conf, the service binding keys and a
// connection string (R default_user_secret.go Build).
func rabbitmqDefaultUser(secret *corev1.Secret, name, ns string) error {
	suffix, err := randomBase64(24)
	if err != nil {
		return err
	}
	password, err := randomBase64(24)
	if err != nil {
		return err
	}
	username := "default_user_" + suffix[:len(suffix)-len("default_user_")]
	host := fmt.Sprintf("%s.%s.svc", name, ns)
	secret.Type = corev1.SecretTypeOpaque
	secret.Data = map[string][]byte{
		"username":          []byte(username),
		"password":          []byte(password),
		"default_user.conf": []byte(fmt.Sprintf("default_user = %s\ndefault_pass = %s\n", username, password)),
		"provider":          []byte("rabbitmq"),
		"type":              []byte("rabbitmq"),
		"host":              []byte(host),
		"port":              []byte("5672"),
		"connection_string": []byte(fmt.Sprintf("amqp://%s:%s@%s:5672/", username, password, host)),
	}
	return nil
}

// rabbitmqMemory is the memory limit the server configuration announces.
func rabbitmqMemory(spec rabbitmqSpec) string {
	if spec.Resources != nil {
		if m, ok := spec.Resources.Limits[corev1.ResourceMemory]; ok {
			return strconv.FormatInt(m.Value(), 10)
		}
	}
	return "0"
}

var (
	rabbitmqVersionRE  = regexp.MustCompile(`^(\d+)\.(\d+)`)
	rabbitmqImageTagRE = regexp.MustCompile(`^\d+(\.\d+){1,2}`)
)

// rabbitmqNeedsPeerDiscoveryRole: RabbitMQ before 4.1.0 discovers peers
// through the Kubernetes API and needs the Role; an unknown version is
// treated as old (CT).
func rabbitmqNeedsPeerDiscoveryRole(version string) bool {
	m := rabbitmqVersionRE.FindStringSubmatch(version)
	if m == nil {
		return true
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major < 4 || (major == 4 && minor < 1)
}

// rabbitmqImageVersion is the version in an image tag such as
// rabbitmq:4.1-management, or "".
func rabbitmqImageVersion(image string) string {
	i := strings.LastIndexByte(image, ':')
	if i < 0 {
		return ""
	}
	return rabbitmqImageTagRE.FindString(image[i+1:])
}

// rabbitmqStatefulSet mutates N-server (R statefulset.go): selector,
// service name and the persistence claim template (3 app labels, no owner
// reference) when created, claim retention whenDeleted=Delete, parallel
// pods, pods with the 3 app labels, and the spec.override pod template
// strategic-merged in. A scale-down is refused.
func rabbitmqStatefulSet(sts *appsv1.StatefulSet, rmq *unstructured.Unstructured, spec rabbitmqSpec, lbls, selector map[string]string, scaleDown *string) error {
	name := rmq.GetName()
	app := rabbitmqAppLabels(name)
	storage := resource.MustParse("10Gi")
	if spec.Persistence.Storage != nil {
		storage = *spec.Persistence.Storage
	}
	if sts.CreationTimestamp.IsZero() {
		sts.Spec.Selector = &metav1.LabelSelector{MatchLabels: selector}
		sts.Spec.ServiceName = name + "-nodes"
		sts.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
		if !storage.IsZero() {
			sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "persistence", Namespace: rmq.GetNamespace(), Labels: app},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: storage}},
					StorageClassName: spec.Persistence.StorageClassName,
				},
			}}
		}
	}
	want := spec.replicas()
	if current := sts.Spec.Replicas; current != nil && *current > want {
		*scaleDown = fmt.Sprintf("Cluster Scale down not supported; tried to scale cluster from %d nodes to %d nodes", *current, want)
		want = *current
	}
	sts.Spec.Replicas = ptr.To(want)
	sts.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
		WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
	}
	sts.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{
		Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0)},
	}
	sts.Labels = lbls
	podSpec, err := rabbitmqPodSpec(rmq, spec, storage.IsZero())
	if err != nil {
		return err
	}
	sts.Spec.Template = corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      app,
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "15692"},
		},
		Spec: podSpec,
	}
	sts.SetOwnerReferences([]metav1.OwnerReference{controllerRef(rmq)})
	return nil
}

// rabbitmqPodSpec is the RabbitMQ pod (R statefulset.go podTemplateSpec)
// with spec.override.statefulSet.spec.template.spec merged in as a
// strategic merge patch (applyStsOverride).
func rabbitmqPodSpec(rmq *unstructured.Unstructured, spec rabbitmqSpec, ephemeral bool) (corev1.PodSpec, error) {
	name := rmq.GetName()
	setup := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")}
	res := corev1.ResourceRequirements{}
	if spec.Resources != nil {
		res = *spec.Resources
	}
	volumes := []corev1.Volume{
		configMapVolume("server-conf", name+"-server-conf"),
		configMapVolume("plugins-conf", name+"-plugins-conf"),
		{Name: "rabbitmq-confd", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: name + "-default-user", Items: []corev1.KeyToPath{{Key: "default_user.conf", Path: "default_user.conf"}},
		}}},
		{Name: "erlang-cookie-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name + "-erlang-cookie"}}},
		{Name: "rabbitmq-erlang-cookie", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "rabbitmq-plugins", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if ephemeral {
		// persistence.storage 0 means an emptyDir.
		volumes = append(volumes, corev1.Volume{Name: "persistence", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	pod := corev1.PodSpec{
		ServiceAccountName:            name + "-server",
		AutomountServiceAccountToken:  ptr.To(true),
		TerminationGracePeriodSeconds: ptr.To[int64](604800),
		SecurityContext:               &corev1.PodSecurityContext{FSGroup: ptr.To[int64](999), RunAsUser: ptr.To[int64](999), RunAsGroup: ptr.To[int64](999)},
		Tolerations:                   spec.Tolerations,
		Affinity:                      spec.Affinity,
		InitContainers: []corev1.Container{{
			Name: "setup-container", Image: spec.Image,
			Command:      []string{"sh", "-c", "cp /tmp/erlang-cookie-secret/.erlang.cookie /var/lib/rabbitmq/.erlang.cookie && chmod 600 /var/lib/rabbitmq/.erlang.cookie"},
			Resources:    corev1.ResourceRequirements{Requests: setup, Limits: setup},
			VolumeMounts: []corev1.VolumeMount{{Name: "erlang-cookie-secret", MountPath: "/tmp/erlang-cookie-secret/"}, {Name: "rabbitmq-erlang-cookie", MountPath: "/var/lib/rabbitmq/"}},
		}},
		Containers: []corev1.Container{{
			Name: "rabbitmq", Image: spec.Image, Resources: res,
			Ports: []corev1.ContainerPort{
				{Name: "epmd", ContainerPort: 4369}, {Name: "amqp", ContainerPort: 5672},
				{Name: "management", ContainerPort: 15672}, {Name: "prometheus", ContainerPort: 15692},
			},
			VolumeMounts: []corev1.VolumeMount{
				{Name: "persistence", MountPath: "/var/lib/rabbitmq/mnesia/"},
				{Name: "rabbitmq-erlang-cookie", MountPath: "/var/lib/rabbitmq/"},
				{Name: "rabbitmq-plugins", MountPath: "/operator"},
				{Name: "server-conf", MountPath: "/etc/rabbitmq/conf.d/10-operatorDefaults.conf", SubPath: "operatorDefaults.conf"},
				{Name: "rabbitmq-confd", MountPath: "/etc/rabbitmq/conf.d/11-default_user.conf", SubPath: "default_user.conf"},
			},
		}},
		Volumes: volumes,
	}
	o := spec.Override.StatefulSet
	if o == nil || o.Spec == nil || o.Spec.Template == nil || len(o.Spec.Template.Spec) == 0 {
		return pod, nil
	}
	original, err := json.Marshal(pod)
	if err != nil {
		return pod, err
	}
	patched, err := strategicpatch.StrategicMergePatch(original, o.Spec.Template.Spec, corev1.PodSpec{})
	if err != nil {
		return pod, reconcile.TerminalError(fmt.Errorf("spec.override.statefulSet.spec.template.spec: %w", err))
	}
	out := corev1.PodSpec{}
	if err := json.Unmarshal(patched, &out); err != nil {
		return pod, fmt.Errorf("spec.override.statefulSet.spec.template.spec: %w", err)
	}
	return out, nil
}

// createOrUpdate is controllerutil.CreateOrUpdate over the label-filtered
// cache, as the operator does; an existing object the cache cannot see
// (not labelled part-of=rabbitmq, e.g. a default-user Secret made by hand)
// is read directly and taken over.
func (r *rabbitmqReconciler) createOrUpdate(ctx context.Context, obj client.Object, mutate func() error) error {
	key := client.ObjectKeyFromObject(obj)
	_, err := controllerutil.CreateOrUpdate(ctx, r.client, obj, mutate)
	if !apierrors.IsAlreadyExists(err) {
		if err != nil {
			return fmt.Errorf("reconciling %T %s: %w", obj, key, err)
		}
		return nil
	}
	if err := r.reader.Get(ctx, key, obj); err != nil {
		return fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	if err := mutate(); err != nil {
		return err
	}
	if err := r.client.Update(ctx, obj); err != nil {
		return fmt.Errorf("updating %T %s: %w", obj, key, err)
	}
	return nil
}

// reconcileStatus sets the four conditions and, once the StatefulSet is
// ready and updated, ReconcileSuccess=True, observedGeneration and the
// version annotation; until then it requeues (CT,
// internal/controller/reconcile_cli.go).
func (r *rabbitmqReconciler) reconcileStatus(ctx context.Context, rmq *unstructured.Unstructured, spec rabbitmqSpec, scaleDown string) (reconcile.Result, error) {
	ns, name := rmq.GetNamespace(), rmq.GetName()
	sts := &appsv1.StatefulSet{}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-server"}, sts); client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	}
	want := ptr.Deref(sts.Spec.Replicas, spec.replicas())
	stsReady := sts.Status.ReadyReplicas == want && sts.Status.UpdatedReplicas == want && sts.Status.ObservedGeneration == sts.Generation && sts.Generation > 0
	old := rabbitmqConditions(rmq)
	conds := []metav1.Condition{rabbitmqReplicasCondition(sts, want)}
	available, err := r.availableCondition(ctx, ns, name)
	if err != nil {
		return reconcile.Result{}, err
	}
	conds = append(conds, available, rabbitmqWarningsCondition(spec))
	reconciled := old[RabbitMQReconcileSuccess]
	if reconciled.Type == "" {
		reconciled = metav1.Condition{Type: RabbitMQReconcileSuccess, Status: metav1.ConditionUnknown, Reason: "Initialising"}
	}
	switch {
	case scaleDown != "":
		reconciled = metav1.Condition{Type: RabbitMQReconcileSuccess, Status: metav1.ConditionFalse, Reason: "UnsupportedOperation", Message: scaleDown}
	case stsReady:
		reconciled = metav1.Condition{Type: RabbitMQReconcileSuccess, Status: metav1.ConditionTrue, Reason: "Success", Message: "Finish reconciling"}
	}
	conds = append(conds, reconciled)

	if stsReady && rmq.GetAnnotations()[RabbitMQVersionAnnotation] == "" {
		// Once a pod runs, the operator records the RabbitMQ version it
		// reports; the emulator reads it from the image tag.
		if v := rabbitmqImageVersion(spec.Image); v != "" {
			a := rmq.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a[RabbitMQVersionAnnotation] = v
			rmq.SetAnnotations(a)
			if err := r.client.Update(ctx, rmq); err != nil {
				return reconcile.Result{}, fmt.Errorf("annotating %s/%s with its version: %w", ns, name, err)
			}
		}
	}
	status := map[string]any{}
	if s, ok := rmq.Object["status"].(map[string]any); ok {
		status = s
	}
	before, _ := json.Marshal(status)
	status["conditions"] = rabbitmqConditionList(conds, old)
	status["defaultUser"] = map[string]any{
		"secretReference":  map[string]any{"name": name + "-default-user", "namespace": ns, "keys": map[string]any{"username": "username", "password": "password"}},
		"serviceReference": map[string]any{"name": name, "namespace": ns},
	}
	status["binding"] = map[string]any{"name": name + "-default-user"}
	if stsReady && scaleDown == "" {
		status["observedGeneration"] = rmq.GetGeneration()
	}
	after, _ := json.Marshal(status)
	if string(before) != string(after) {
		rmq.Object["status"] = status
		if err := r.client.Status().Update(ctx, rmq); err != nil {
			return reconcile.Result{}, fmt.Errorf("updating the status of %s/%s: %w", ns, name, err)
		}
	}
	if !stsReady || available.Status != metav1.ConditionTrue {
		return reconcile.Result{RequeueAfter: r.opts.RabbitMQRequeue}, nil
	}
	return reconcile.Result{}, nil
}

// rabbitmqReplicasCondition is AllReplicasReady (internal/status
// all_replicas_ready.go).
func rabbitmqReplicasCondition(sts *appsv1.StatefulSet, want int32) metav1.Condition {
	c := metav1.Condition{Type: RabbitMQAllReplicasReady, Status: metav1.ConditionFalse, Reason: "NotAllPodsReady",
		Message: fmt.Sprintf("%d/%d Pods ready", sts.Status.ReadyReplicas, want)}
	if sts.Generation > 0 && sts.Status.ReadyReplicas == want {
		c = metav1.Condition{Type: RabbitMQAllReplicasReady, Status: metav1.ConditionTrue, Reason: "AllPodsAreReady"}
	}
	return c
}

// availableCondition is ClusterAvailable: an EndpointSlice of the client
// Service has a ready address (internal/status cluster_available.go; the
// operator reads EndpointSlices since Endpoints were deprecated).
func (r *rabbitmqReconciler) availableCondition(ctx context.Context, ns, name string) (metav1.Condition, error) {
	slices := &discoveryv1.EndpointSliceList{}
	if err := r.client.List(ctx, slices, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: name}); err != nil {
		return metav1.Condition{}, fmt.Errorf("listing the endpoint slices of %s/%s: %w", ns, name, err)
	}
	if len(slices.Items) == 0 {
		return metav1.Condition{Type: RabbitMQClusterAvailable, Status: metav1.ConditionUnknown, Reason: "CouldNotRetrieveEndpoints",
			Message: "Could not verify available service endpoints"}, nil
	}
	for _, s := range slices.Items {
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) > 0 && ptr.Deref(ep.Conditions.Ready, true) {
				return metav1.Condition{Type: RabbitMQClusterAvailable, Status: metav1.ConditionTrue, Reason: "AtLeastOneEndpointAvailable"}, nil
			}
		}
	}
	return metav1.Condition{Type: RabbitMQClusterAvailable, Status: metav1.ConditionFalse, Reason: "NoEndpointsAvailable",
		Message: "The service has no endpoints available"}, nil
}

// rabbitmqWarningsCondition is NoWarnings: False without a memory limit
// (internal/status no_warnings.go).
func rabbitmqWarningsCondition(spec rabbitmqSpec) metav1.Condition {
	if spec.Resources == nil || spec.Resources.Limits.Memory().IsZero() {
		return metav1.Condition{Type: RabbitMQNoWarnings, Status: metav1.ConditionFalse, Reason: "MissingMemoryLimits",
			Message: "RabbitMQ container memory resource limit is not set"}
	}
	return metav1.Condition{Type: RabbitMQNoWarnings, Status: metav1.ConditionTrue, Reason: "NoWarnings"}
}

// rabbitmqConditions reads status.conditions by type.
func rabbitmqConditions(rmq *unstructured.Unstructured) map[string]metav1.Condition {
	out := map[string]metav1.Condition{}
	list, _, _ := unstructured.NestedSlice(rmq.Object, "status", "conditions")
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		c := metav1.Condition{}
		c.Type, _ = m["type"].(string)
		s, _ := m["status"].(string)
		c.Status = metav1.ConditionStatus(s)
		c.Reason, _ = m["reason"].(string)
		c.Message, _ = m["message"].(string)
		if t, ok := m["lastTransitionTime"].(string); ok {
			if parsed, err := time.Parse(time.RFC3339, t); err == nil {
				c.LastTransitionTime = metav1.NewTime(parsed)
			}
		}
		out[c.Type] = c
	}
	return out
}

// rabbitmqConditionList renders conditions, keeping a condition's
// lastTransitionTime while its status does not change.
func rabbitmqConditionList(conds []metav1.Condition, old map[string]metav1.Condition) []any {
	now := time.Now().UTC().Truncate(time.Second)
	out := make([]any, 0, len(conds))
	for _, c := range conds {
		t := now
		if prev, ok := old[c.Type]; ok && prev.Status == c.Status && !prev.LastTransitionTime.IsZero() {
			t = prev.LastTransitionTime.UTC()
		}
		m := map[string]any{"type": c.Type, "status": string(c.Status), "lastTransitionTime": t.Format(time.RFC3339)}
		if c.Reason != "" {
			m["reason"] = c.Reason
		}
		if c.Message != "" {
			m["message"] = c.Message
		}
		out = append(out, m)
	}
	return out
}
