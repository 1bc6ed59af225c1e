package operators

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Zalando postgres-operator names and defaults. Source: zalando/postgres-operator
// a7aaad0a; K = pkg/cluster/k8sres.go, U = pkg/cluster/util.go, C =
// pkg/cluster/cluster.go, S = pkg/cluster/sync.go, R = pkg/cluster/resources.go,
// CFG = pkg/util/config/config.go.
const (
	// ZalandoStatusCreating and the others are status.PostgresClusterStatus
	// values (pkg/apis/acid.zalan.do/v1/const.go).
	ZalandoStatusCreating     = "Creating"
	ZalandoStatusRunning      = "Running"
	ZalandoStatusCreateFailed = "CreateFailed"
	ZalandoStatusSyncFailed   = "SyncFailed"
	ZalandoStatusInvalid      = "Invalid"

	// ZalandoRoleLabel is pod_role_label (CFG); Patroni sets it to
	// master or replica.
	ZalandoRoleLabel = "spilo-role"
	// ZalandoSecretSuffix completes secret_name_template
	// {username}.{cluster}.credentials.{tprkind}.{tprgroup} (CFG, U
	// credentialSecretNameForCluster).
	ZalandoSecretSuffix = ".credentials.postgresql.acid.zalan.do"

	zalandoPodRBACName   = "postgres-pod"          // pod_service_account_name, pod_service_account_role_binding (CFG)
	zalandoDataVolume    = "pgdata"                // constants.DataVolumeName
	zalandoDataMount     = "/home/postgres/pgdata" // constants.PostgresDataMount
	zalandoContainerName = "postgres"              // constants.PostgresContainerName
	zalandoImage         = "ghcr.io/zalando/spilo-17:4.0-p2"
	zalandoSuperuser     = "postgres" // super_username (CFG)
	zalandoReplication   = "standby"  // replication_username (CFG)
)

// ZalandoSecretName is the name of the credentials Secret of user in
// cluster: `_` becomes `-` (U credentialSecretNameForCluster).
func ZalandoSecretName(user, cluster string) string {
	return strings.ReplaceAll(user, "_", "-") + "." + cluster + ZalandoSecretSuffix
}

// zalandoSpec is what the emulator reads of a postgresql's spec.
type zalandoSpec struct {
	TeamID            string `json:"teamId"`
	NumberOfInstances int32  `json:"numberOfInstances"`
	Volume            struct {
		Size         string `json:"size"`
		StorageClass string `json:"storageClass"`
	} `json:"volume"`
	Resources struct {
		Requests map[string]string `json:"requests"`
		Limits   map[string]string `json:"limits"`
	} `json:"resources"`
	Users                map[string][]string  `json:"users"`
	Tolerations          []corev1.Toleration  `json:"tolerations"`
	NodeAffinity         *corev1.NodeAffinity `json:"nodeAffinity"`
	PodPriorityClassName string               `json:"podPriorityClassName"`
}

// zalandoCluster is what the emulator remembers of a cluster, as the
// operator keeps a Cluster per postgresql in memory
// (pkg/controller/postgresql.go): it is all Delete has once the resource is
// gone.
type zalandoCluster struct {
	uid     types.UID
	secrets []string
}

// zalandoReconciler emulates the Zalando postgres-operator with its shipped
// configuration: no finalizer (enable_finalizers false, CFG), no owner
// references of its own (enable_owner_references false, CFG), no inherited
// labels (inherited_labels empty, CFG), kubernetes_use_configmaps true (the
// Helm chart's value, so the master Service has a selector, K
// generateService), and Patroni's pod labelling played by the emulator.
type zalandoReconciler struct {
	opts   Options
	client client.Client
	// reader reads without a cache: the operator's ClusterRole has no list
	// or watch on StatefulSets, Services or Secrets; it GETs them.
	reader client.Reader

	mu       sync.Mutex
	clusters map[types.NamespacedName]*zalandoCluster
}

func (r *zalandoReconciler) setup(mgr ctrl.Manager) error {
	r.client = mgr.GetClient()
	r.reader = mgr.GetAPIReader()
	r.clusters = map[types.NamespacedName]*zalandoCluster{}
	pg := &unstructured.Unstructured{}
	pg.SetGroupVersionKind(GVKPostgresql)
	// The operator watches postgresqls and pods (pkg/controller/controller.go).
	podToCluster := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		name := obj.GetLabels()["cluster-name"]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}}}
	})
	spilo, err := predicate.LabelSelectorPredicate(metav1.LabelSelector{MatchLabels: map[string]string{"application": "spilo"}})
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("zalando-postgres").
		For(pg).
		Watches(&corev1.Pod{}, podToCluster, builder.WithPredicates(spilo)).
		Complete(r)
}

// Reconcile follows the operator's Add/Sync and Delete handlers
// (pkg/controller/postgresql.go).
func (r *zalandoReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	pg := &unstructured.Unstructured{}
	pg.SetGroupVersionKind(GVKPostgresql)
	err := r.client.Get(ctx, req.NamespacedName, pg)
	r.mu.Lock()
	known := r.clusters[req.NamespacedName]
	r.mu.Unlock()
	if apierrors.IsNotFound(err) {
		// No finalizer by default: the delete event runs Cluster.Delete
		// (P postgresqlDelete, C Delete).
		if known != nil {
			log.Info("Deleting the cluster's objects", "postgresql", req.NamespacedName)
			if err := r.delete(ctx, req.NamespacedName, known); err != nil {
				return reconcile.Result{}, err
			}
			r.forget(req.NamespacedName, known.uid)
		}
		return reconcile.Result{}, nil
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	if known != nil && known.uid != pg.GetUID() {
		// Deleted and created again between two events: the delete comes
		// first.
		if err := r.delete(ctx, req.NamespacedName, known); err != nil {
			return reconcile.Result{}, err
		}
		r.forget(req.NamespacedName, known.uid)
	}
	if pg.GetDeletionTimestamp() != nil {
		// Without enable_finalizers the operator acts on the delete event
		// only.
		return reconcile.Result{}, nil
	}
	status, _, _ := unstructured.NestedString(pg.Object, "status", "PostgresClusterStatus")
	spec := zalandoSpec{}
	if err := decodeSpec(pg, &spec); err != nil || spec.TeamID == "" {
		// The operator marks a spec it cannot use Invalid (P
		// postgresqlAdd / acidv1 validation).
		log.Error(err, "Invalid postgresql", "postgresql", req.NamespacedName)
		return reconcile.Result{}, r.setStatus(ctx, pg, status, ZalandoStatusInvalid)
	}
	if status == "" {
		// Create: status Creating first (C Create).
		if err := r.setStatus(ctx, pg, status, ZalandoStatusCreating); err != nil {
			return reconcile.Result{}, err
		}
		status = ZalandoStatusCreating
	}
	c := &zalandoCluster{uid: pg.GetUID(), secrets: zalandoSecretNames(pg.GetName(), spec)}
	r.mu.Lock()
	r.clusters[req.NamespacedName] = c
	r.mu.Unlock()

	if err := r.sync(ctx, pg, spec); err != nil {
		failed := ZalandoStatusSyncFailed
		if status == ZalandoStatusCreating || status == ZalandoStatusCreateFailed {
			failed = ZalandoStatusCreateFailed
		}
		return reconcile.Result{}, errors.Join(err, r.setStatus(ctx, pg, status, failed))
	}
	if status == ZalandoStatusRunning {
		// An error-free Sync leaves it Running (S Sync).
		return reconcile.Result{}, nil
	}
	ready, err := r.ready(ctx, pg, spec)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !ready {
		// Create polls the StatefulSet and the pods' role labels every
		// resource_check_interval (U waitStatefulsetReady, _waitPodLabelsReady).
		return reconcile.Result{RequeueAfter: r.opts.ZalandoCheckInterval}, nil
	}
	return reconcile.Result{}, r.setStatus(ctx, pg, status, ZalandoStatusRunning)
}

func (r *zalandoReconciler) forget(key types.NamespacedName, uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.clusters[key]; c != nil && c.uid == uid {
		delete(r.clusters, key)
	}
}

// setStatus writes status.PostgresClusterStatus through the status
// subresource (k8sutil SetPostgresCRDStatus), if it changed.
func (r *zalandoReconciler) setStatus(ctx context.Context, pg *unstructured.Unstructured, current, want string) error {
	if current == want {
		return nil
	}
	patch := []byte(fmt.Sprintf(`{"status":{"PostgresClusterStatus":%q}}`, want))
	if err := r.client.Status().Patch(ctx, pg, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("setting status %s on postgresql %s/%s: %w", want, pg.GetNamespace(), pg.GetName(), err)
	}
	return nil
}

// zalandoSecretNames are the credentials Secrets of a cluster: the
// superuser, the replication user and every spec.users entry that may log
// in (K generateUserSecrets skips NOLOGIN roles).
func zalandoSecretNames(cluster string, spec zalandoSpec) []string {
	users := []string{zalandoSuperuser, zalandoReplication}
	for user, flags := range spec.Users {
		if slices.ContainsFunc(flags, func(f string) bool { return strings.EqualFold(f, "nologin") }) {
			continue
		}
		users = append(users, user)
	}
	slices.Sort(users[2:])
	names := make([]string, 0, len(users))
	for _, u := range users {
		names = append(names, ZalandoSecretName(u, cluster))
	}
	return names
}

// zalandoLabels is labelsSet(true) (U): cluster_labels (application: spilo),
// cluster_name_label and team; the postgresql's own labels are not copied
// because inherited_labels is empty (CFG).
func zalandoLabels(cluster, team string) map[string]string {
	return map[string]string{"application": "spilo", "cluster-name": cluster, "team": team}
}

// zalandoSelector is labelsSet(false) (U): what the operator lists pods and
// PVCs by and the StatefulSet selects.
func zalandoSelector(cluster string) map[string]string {
	return map[string]string{"application": "spilo", "cluster-name": cluster}
}

// sync creates what is missing, as Create and Sync do (C Create, S Sync).
func (r *zalandoReconciler) sync(ctx context.Context, pg *unstructured.Unstructured, spec zalandoSpec) error {
	ns, name := pg.GetNamespace(), pg.GetName()
	// Children copy the postgresql's own ownerReferences and add none
	// (K ownerReferences with enable_owner_references false).
	owners := pg.GetOwnerReferences()
	labels := zalandoLabels(name, spec.TeamID)

	if err := r.syncPodRBAC(ctx, ns); err != nil {
		return err
	}
	for _, role := range []string{"master", "replica"} {
		if err := r.syncService(ctx, zalandoService(ns, name, role, labels, owners)); err != nil {
			return err
		}
	}
	if err := r.syncSecrets(ctx, pg, spec, labels, owners); err != nil {
		return err
	}
	for _, pdb := range zalandoPDBs(ns, name, spec, labels, owners) {
		if err := r.createIfMissing(ctx, pdb, &policyv1.PodDisruptionBudget{}); err != nil {
			return err
		}
	}
	sts, err := zalandoStatefulSet(ns, name, spec, labels, owners)
	if err != nil {
		return err
	}
	current := &appsv1.StatefulSet{}
	switch err := r.reader.Get(ctx, client.ObjectKeyFromObject(sts), current); {
	case apierrors.IsNotFound(err):
		if err := r.client.Create(ctx, sts); err != nil {
			return fmt.Errorf("creating statefulset %s/%s: %w", ns, name, err)
		}
	case err != nil:
		return fmt.Errorf("reading statefulset %s/%s: %w", ns, name, err)
	case ptr.Deref(current.Spec.Replicas, 1) != spec.NumberOfInstances:
		// Sync patches the StatefulSet when the spec changed (S
		// syncStatefulSet); the number of instances is what berth changes.
		patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, spec.NumberOfInstances))
		if err := r.client.Patch(ctx, current, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("scaling statefulset %s/%s: %w", ns, name, err)
		}
	}
	return r.labelPods(ctx, ns, name)
}

// syncPodRBAC creates the per-namespace ServiceAccount and RoleBinding the
// pods run with (P syncPodServiceAccount / syncRoleBinding). They belong to
// no cluster and the operator never deletes them.
func (r *zalandoReconciler) syncPodRBAC(ctx context.Context, ns string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: zalandoPodRBACName, Namespace: ns}}
	if err := r.createIfMissing(ctx, sa, &corev1.ServiceAccount{}); err != nil {
		return err
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: zalandoPodRBACName, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: zalandoPodRBACName},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: zalandoPodRBACName}},
	}
	return r.createIfMissing(ctx, rb, &rbacv1.RoleBinding{})
}

// createIfMissing creates obj unless an object of its name exists.
func (r *zalandoReconciler) createIfMissing(ctx context.Context, obj, current client.Object) error {
	err := r.reader.Get(ctx, client.ObjectKeyFromObject(obj), current)
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
	}
	if err := r.client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// zalandoService is the master Service N or the replica Service N-repl
// (K generateService, serviceName): port 5432, labels with spilo-role
// (roleLabelsSet), a selector on the role because kubernetes_use_configmaps
// is on.
func zalandoService(ns, cluster, role string, labels map[string]string, owners []metav1.OwnerReference) *corev1.Service {
	name := cluster
	if role == "replica" {
		name += "-repl"
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, OwnerReferences: owners,
			Labels: mergeLabels(labels, map[string]string{ZalandoRoleLabel: role}),
		},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Ports:    []corev1.ServicePort{{Name: "postgresql", Port: 5432, TargetPort: intstr.FromInt32(5432)}},
			Selector: mergeLabels(zalandoSelector(cluster), map[string]string{ZalandoRoleLabel: role}),
		},
	}
}

// syncService creates the Service or updates its labels, selector and ports
// when they drifted (S syncService / R updateService).
func (r *zalandoReconciler) syncService(ctx context.Context, want *corev1.Service) error {
	current := &corev1.Service{}
	err := r.reader.Get(ctx, client.ObjectKeyFromObject(want), current)
	if apierrors.IsNotFound(err) {
		if err := r.client.Create(ctx, want); err != nil {
			return fmt.Errorf("creating service %s: %w", client.ObjectKeyFromObject(want), err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading service %s: %w", client.ObjectKeyFromObject(want), err)
	}
	same := maps.Equal(current.Labels, want.Labels) && maps.Equal(current.Spec.Selector, want.Spec.Selector) &&
		len(current.Spec.Ports) == 1 && current.Spec.Ports[0].Port == want.Spec.Ports[0].Port
	if same {
		return nil
	}
	current.Labels = want.Labels
	current.Spec.Selector = want.Spec.Selector
	current.Spec.Ports = want.Spec.Ports
	if err := r.client.Update(ctx, current); err != nil {
		return fmt.Errorf("updating service %s: %w", client.ObjectKeyFromObject(want), err)
	}
	return nil
}

// syncSecrets creates each user's credentials Secret with keys username and
// password (K generateSingleUserSecret); an existing Secret keeps its
// password (S syncSecrets: the operator reads it back).
func (r *zalandoReconciler) syncSecrets(ctx context.Context, pg *unstructured.Unstructured, spec zalandoSpec, labels map[string]string, owners []metav1.OwnerReference) error {
	users := map[string]string{}
	for _, user := range append([]string{zalandoSuperuser, zalandoReplication}, slices.Sorted(maps.Keys(spec.Users))...) {
		users[ZalandoSecretName(user, pg.GetName())] = user
	}
	for _, name := range zalandoSecretNames(pg.GetName(), spec) {
		password, err := randomString(64, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
		if err != nil {
			return err
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: pg.GetNamespace(), Labels: labels, OwnerReferences: owners},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{"username": []byte(users[name]), "password": []byte(password)},
		}
		if err := r.createIfMissing(ctx, secret, &corev1.Secret{}); err != nil {
			return err
		}
	}
	return nil
}

// zalandoPDBs are postgres-N-pdb, keeping the master, and
// postgres-N-critical-op-pdb, keeping pods under a critical operation (K
// generatePrimaryPodDisruptionBudget, generateCriticalOpPodDisruptionBudget;
// pdb_name_format postgres-{cluster}-pdb).
func zalandoPDBs(ns, cluster string, spec zalandoSpec, labels map[string]string, owners []metav1.OwnerReference) []*policyv1.PodDisruptionBudget {
	minMaster := int32(1)
	if spec.NumberOfInstances <= 0 {
		minMaster = 0
	}
	return []*policyv1.PodDisruptionBudget{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "postgres-" + cluster + "-pdb", Namespace: ns, Labels: labels, OwnerReferences: owners},
			Spec: policyv1.PodDisruptionBudgetSpec{
				MinAvailable: ptr.To(intstr.FromInt32(minMaster)),
				Selector:     &metav1.LabelSelector{MatchLabels: mergeLabels(zalandoSelector(cluster), map[string]string{ZalandoRoleLabel: "master"})},
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "postgres-" + cluster + "-critical-op-pdb", Namespace: ns, Labels: labels, OwnerReferences: owners},
			Spec: policyv1.PodDisruptionBudgetSpec{
				MinAvailable: ptr.To(intstr.FromInt32(spec.NumberOfInstances)),
				Selector:     &metav1.LabelSelector{MatchLabels: mergeLabels(zalandoSelector(cluster), map[string]string{"critical-operation": "true"})},
			},
		},
	}
}

// zalandoStatefulSet is the cluster's StatefulSet N (K generateStatefulSet):
// the volume claim template pgdata (PVCs pgdata-N-<i>,
// generatePersistentVolumeClaimTemplate), OnDelete updates, ordered_ready
// pod management and the Retain claim retention of the default
// persistent_volume_claim_retention_policy.
func zalandoStatefulSet(ns, cluster string, spec zalandoSpec, labels map[string]string, owners []metav1.OwnerReference) (*appsv1.StatefulSet, error) {
	size, err := resource.ParseQuantity(spec.Volume.Size)
	if err != nil {
		return nil, fmt.Errorf("spec.volume.size: %w", err)
	}
	// Defaults of default_cpu_request, default_memory_request,
	// default_cpu_limit and default_memory_limit (CFG).
	requests, err := resourceList("spec.resources.requests", spec.Resources.Requests)
	if err != nil {
		return nil, err
	}
	limits, err := resourceList("spec.resources.limits", spec.Resources.Limits)
	if err != nil {
		return nil, err
	}
	res := corev1.ResourceRequirements{
		Requests: mergeQuantities(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("100Mi")}, requests),
		Limits:   mergeQuantities(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("500Mi")}, limits),
	}
	var storageClass *string
	if spec.Volume.StorageClass != "" {
		storageClass = ptr.To(spec.Volume.StorageClass)
	}
	var affinity *corev1.Affinity
	if spec.NodeAffinity != nil {
		affinity = &corev1.Affinity{NodeAffinity: spec.NodeAffinity}
	}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: cluster, Namespace: ns, Labels: labels, OwnerReferences: owners},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            ptr.To(spec.NumberOfInstances),
			Selector:            &metav1.LabelSelector{MatchLabels: zalandoSelector(cluster)},
			ServiceName:         cluster,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				WhenScaled:  appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:            zalandoPodRBACName,
					TerminationGracePeriodSeconds: ptr.To[int64](300),
					Tolerations:                   spec.Tolerations,
					Affinity:                      affinity,
					PriorityClassName:             spec.PodPriorityClassName,
					Containers: []corev1.Container{{
						Name: zalandoContainerName, Image: zalandoImage, Resources: res,
						Ports: []corev1.ContainerPort{
							{ContainerPort: 8008, Protocol: corev1.ProtocolTCP},
							{ContainerPort: 5432, Protocol: corev1.ProtocolTCP},
							{ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: zalandoDataVolume, MountPath: zalandoDataMount}},
					}},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: zalandoDataVolume, Labels: labels},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
					StorageClassName: storageClass,
					VolumeMode:       ptr.To(corev1.PersistentVolumeFilesystem),
				},
			}},
		},
	}, nil
}

// labelPods plays Patroni, which labels the pod holding the leader lock
// spilo-role=master and the others replica once they run.
func (r *zalandoReconciler) labelPods(ctx context.Context, ns, cluster string) error {
	pods := &corev1.PodList{}
	if err := r.client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels(zalandoSelector(cluster))); err != nil {
		return fmt.Errorf("listing pods of %s/%s: %w", ns, cluster, err)
	}
	for pod, role := range assignRoles(pods.Items, ZalandoRoleLabel, "master", "replica") {
		if err := patchPodLabel(ctx, r.client, pods.Items, pod, ZalandoRoleLabel, role); err != nil {
			return err
		}
	}
	return nil
}

// ready is Create's wait: the StatefulSet has all its replicas ready and
// every pod carries a role label, at most one master (U
// waitStatefulsetPodsReady, _waitPodLabelsReady).
func (r *zalandoReconciler) ready(ctx context.Context, pg *unstructured.Unstructured, spec zalandoSpec) (bool, error) {
	sts := &appsv1.StatefulSet{}
	if err := r.reader.Get(ctx, client.ObjectKeyFromObject(pg), sts); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if sts.Status.ReadyReplicas != spec.NumberOfInstances {
		return false, nil
	}
	pods := &corev1.PodList{}
	if err := r.client.List(ctx, pods, client.InNamespace(pg.GetNamespace()), client.MatchingLabels(zalandoSelector(pg.GetName()))); err != nil {
		return false, err
	}
	masters, labelled := 0, 0
	for _, p := range pods.Items {
		switch p.Labels[ZalandoRoleLabel] {
		case "master":
			masters++
			labelled++
		case "replica":
			labelled++
		}
	}
	return masters <= 1 && labelled == int(spec.NumberOfInstances), nil
}

// delete is Cluster.Delete (C Delete): the StatefulSet (orphaning its pods,
// then deleting them and, with enable_persistent_volume_claim_deletion, the
// PVCs: R deleteStatefulSet), the credentials Secrets with
// enable_secrets_deletion (R deleteSecrets), the PodDisruptionBudgets and
// the Services. With the postgresql gone, the PVCs and pods are found by
// labelsSet(false) and the Secrets by the names the operator remembers.
func (r *zalandoReconciler) delete(ctx context.Context, key types.NamespacedName, c *zalandoCluster) error {
	ns, name := key.Namespace, key.Name
	orphan := client.PropagationPolicy(metav1.DeletePropagationOrphan)
	del := func(obj client.Object, opts ...client.DeleteOption) error {
		if err := r.client.Delete(ctx, obj, opts...); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
		}
		return nil
	}
	meta := func(n string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: n, Namespace: ns} }
	if err := del(&appsv1.StatefulSet{ObjectMeta: meta(name)}, orphan); err != nil {
		return err
	}
	pods := &corev1.PodList{}
	if err := r.client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels(zalandoSelector(name))); err != nil {
		return fmt.Errorf("listing pods of %s: %w", key, err)
	}
	for i := range pods.Items {
		if err := del(&pods.Items[i], orphan); err != nil {
			return err
		}
	}
	if !r.opts.ZalandoKeepVolumes {
		pvcs := &corev1.PersistentVolumeClaimList{}
		if err := r.reader.List(ctx, pvcs, client.InNamespace(ns), client.MatchingLabels(zalandoSelector(name))); err != nil {
			return fmt.Errorf("listing PVCs of %s: %w", key, err)
		}
		for i := range pvcs.Items {
			if err := del(&pvcs.Items[i], orphan); err != nil {
				return err
			}
		}
	}
	if !r.opts.ZalandoKeepSecrets {
		for _, s := range c.secrets {
			if err := del(&corev1.Secret{ObjectMeta: meta(s)}, orphan); err != nil {
				return err
			}
		}
	}
	for _, pdb := range []string{"postgres-" + name + "-pdb", "postgres-" + name + "-critical-op-pdb"} {
		if err := del(&policyv1.PodDisruptionBudget{ObjectMeta: meta(pdb)}, orphan); err != nil {
			return err
		}
	}
	for _, svc := range []string{name, name + "-repl"} {
		if err := del(&corev1.Service{ObjectMeta: meta(svc)}, orphan); err != nil {
			return err
		}
	}
	return nil
}
