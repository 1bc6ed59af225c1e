package operators

import (
	"context"
	"fmt"
	"maps"
	"regexp"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Spotahome redis-operator names and defaults. Source: spotahome/redis-operator
// 632aa3da; G = operator/redisfailover/service/generator.go, H =
// operator/redisfailover/handler.go, K = service/k8s/.
const (
	// SpotahomeRoleLabel is set on running Redis pods to master or slave
	// (operator/redisfailover/service/check.go).
	SpotahomeRoleLabel = "redisfailovers-role"
	// SpotahomeNameLabel carries the RedisFailover's name (H rfLabelNameKey).
	SpotahomeNameLabel = "redisfailovers.databases.spotahome.com/name"
	// SpotahomeMaxNameLength is the longest RedisFailover name the operator
	// accepts (api/redisfailover/v1/validate.go maxNameLength).
	SpotahomeMaxNameLength = 48

	spotahomeManagedBy      = "redis-operator" // H defaultLabels
	spotahomePartOf         = "redis-failover" // G appLabel
	spotahomeDefaultImage   = "redis:6.2.6-alpine"
	spotahomeDefaultPort    = 6379
	spotahomeDefaultReplica = 3
	spotahomeSentinelPort   = 26379
)

// spotahomeSpec is what the emulator reads of a RedisFailover's spec, with
// the defaults of api/redisfailover/v1/defaults.go applied.
type spotahomeSpec struct {
	LabelWhitelist []string `json:"labelWhitelist"`
	Redis          struct {
		spotahomeWorkload
		Port    int32 `json:"port"`
		Storage struct {
			KeepAfterDeletion     bool                          `json:"keepAfterDeletion"`
			PersistentVolumeClaim *corev1.PersistentVolumeClaim `json:"persistentVolumeClaim"`
		} `json:"storage"`
	} `json:"redis"`
	Sentinel spotahomeWorkload `json:"sentinel"`
	Auth     struct {
		SecretPath string `json:"secretPath"`
	} `json:"auth"`
}

// spotahomeWorkload is the part of spec.redis and spec.sentinel both share.
type spotahomeWorkload struct {
	Image             string                      `json:"image"`
	Replicas          int32                       `json:"replicas"`
	Resources         corev1.ResourceRequirements `json:"resources"`
	PriorityClassName string                      `json:"priorityClassName"`
	Tolerations       []corev1.Toleration         `json:"tolerations"`
	NodeSelector      map[string]string           `json:"nodeSelector"`
}

func (w *spotahomeWorkload) defaults() {
	if w.Image == "" {
		w.Image = spotahomeDefaultImage
	}
	if w.Replicas == 0 {
		w.Replicas = spotahomeDefaultReplica
	}
}

// spotahomeReconciler emulates the Spotahome redis-operator: it creates
// every child with a controller reference and all the RedisFailover's
// labels, replaces every child with a full Update on every resync (K
// CreateOrUpdate*), writes no status, and labels the Redis pods by role once
// they all run. Deletion is left to the garbage collector (H Delete).
type spotahomeReconciler struct {
	opts   Options
	client client.Client
	// reader reads children and the auth Secret without a cache, as the
	// operator's k8s services GET them.
	reader client.Reader
}

func (r *spotahomeReconciler) setup(mgr ctrl.Manager) error {
	r.client = mgr.GetClient()
	r.reader = mgr.GetAPIReader()
	rf := &unstructured.Unstructured{}
	rf.SetGroupVersionKind(GVKRedisFailover)
	// The operator's controller watches RedisFailovers only and resyncs them
	// every 30s (operator/redisfailover/factory.go); it does not watch
	// children.
	return ctrl.NewControllerManagedBy(mgr).Named("spotahome-redis").For(rf).Complete(r)
}

// Reconcile is the handler's Add (H Add): validate, Ensure, CheckAndHeal.
func (r *spotahomeReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	resync := reconcile.Result{RequeueAfter: r.opts.SpotahomeResync}
	rf := &unstructured.Unstructured{}
	rf.SetGroupVersionKind(GVKRedisFailover)
	if err := r.client.Get(ctx, req.NamespacedName, rf); err != nil {
		// Deleted: the garbage collector removes the children through their
		// owner references (H Delete does nothing).
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if rf.GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	if len(rf.GetName()) > SpotahomeMaxNameLength {
		// rf.Validate fails and nothing is created; the next resync tries
		// again (api/redisfailover/v1/validate.go).
		log.Info("Invalid RedisFailover", "redisfailover", req.NamespacedName, "error", fmt.Sprintf("name length can't be higher than %d", SpotahomeMaxNameLength))
		return resync, nil
	}
	spec := spotahomeSpec{}
	if err := decodeSpec(rf, &spec); err != nil {
		log.Error(err, "Invalid RedisFailover", "redisfailover", req.NamespacedName)
		return resync, nil
	}
	spec.Redis.defaults()
	spec.Sentinel.defaults()
	if spec.Redis.Port == 0 {
		spec.Redis.Port = spotahomeDefaultPort
	}
	password, err := r.password(ctx, rf.GetNamespace(), spec)
	if err != nil {
		return reconcile.Result{}, err
	}
	labels := spotahomeLabels(rf, spec)
	owners := []metav1.OwnerReference{controllerRef(rf)}
	for _, obj := range spotahomeChildren(rf, spec, labels, owners, password) {
		if err := r.createOrReplace(ctx, obj); err != nil {
			return reconcile.Result{}, err
		}
	}
	if err := r.labelPods(ctx, rf, spec); err != nil {
		return reconcile.Result{}, err
	}
	return resync, nil
}

// password reads the key password of the Secret spec.auth.secretPath names
// (K util.go GetRedisPassword); no secretPath means no password.
func (r *spotahomeReconciler) password(ctx context.Context, ns string, spec spotahomeSpec) (string, error) {
	if spec.Auth.SecretPath == "" {
		return "", nil
	}
	secret := &corev1.Secret{}
	if err := r.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: spec.Auth.SecretPath}, secret); err != nil {
		return "", fmt.Errorf("spec.auth.secretPath: reading secret %s/%s: %w", ns, spec.Auth.SecretPath, err)
	}
	password, ok := secret.Data["password"]
	if !ok {
		return "", fmt.Errorf("spec.auth.secretPath: secret %s/%s has no key password", ns, spec.Auth.SecretPath)
	}
	return string(password), nil
}

// spotahomeLabels merges the operator's labels with the RedisFailover's:
// app.kubernetes.io/managed-by, the name label, then every label of the
// resource (or those matching labelWhitelist), a resource label winning
// (H getLabels).
func spotahomeLabels(rf *unstructured.Unstructured, spec spotahomeSpec) map[string]string {
	custom := rf.GetLabels()
	if len(spec.LabelWhitelist) > 0 {
		custom = map[string]string{}
		for _, expr := range spec.LabelWhitelist {
			re, err := regexp.Compile(expr)
			if err != nil {
				continue // the operator logs and ignores a bad expression
			}
			for k, v := range rf.GetLabels() {
				if re.MatchString(k) {
					custom[k] = v
				}
			}
		}
	}
	return mergeLabels(map[string]string{"app.kubernetes.io/managed-by": spotahomeManagedBy}, map[string]string{SpotahomeNameLabel: rf.GetName()}, custom)
}

// spotahomeSelector is generateSelectorLabels (G): the labels a component's
// pods are selected by.
func spotahomeSelector(component, name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/component": component, "app.kubernetes.io/part-of": spotahomePartOf}
}

// spotahomeChildren are the objects Ensure keeps, in its order (H Ensure):
// the sentinel Service and ConfigMap, the Redis shutdown, readiness and
// config ConfigMaps, the Redis PodDisruptionBudget and StatefulSet, the
// sentinel PodDisruptionBudget and Deployment, and the master and slave
// Services. Each carries labels merged with its component's selector and
// the owner references.
func spotahomeChildren(rf *unstructured.Unstructured, spec spotahomeSpec, labels map[string]string, owners []metav1.OwnerReference, password string) []client.Object {
	ns, name := rf.GetNamespace(), rf.GetName()
	redisSel, sentinelSel := spotahomeSelector("redis", name), spotahomeSelector("sentinel", name)
	redisLabels, sentinelLabels := mergeLabels(labels, redisSel), mergeLabels(labels, sentinelSel)
	meta := func(n string, l map[string]string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: n, Namespace: ns, Labels: l, OwnerReferences: owners}
	}
	redisConf := "slaveof 127.0.0.1 " + fmt.Sprint(spec.Redis.Port) + "\ntcp-keepalive 60\nsave 900 1\nsave 300 10"
	if password != "" {
		// G generateRedisConfigMap: the password in plain text.
		redisConf += fmt.Sprintf("\nmasterauth %s\nrequirepass %s", password, password)
	}
	pdb := func(n string, l map[string]string) *policyv1.PodDisruptionBudget {
		// G generatePodDisruptionBudget selects by all the labels.
		return &policyv1.PodDisruptionBudget{
			ObjectMeta: meta(n, l),
			Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2)), Selector: &metav1.LabelSelector{MatchLabels: l}},
		}
	}
	roleService := func(n, role string) *corev1.Service {
		sel := mergeLabels(redisSel, map[string]string{SpotahomeRoleLabel: role})
		return &corev1.Service{
			ObjectMeta: meta(n, mergeLabels(labels, sel)),
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeClusterIP,
				Ports:    []corev1.ServicePort{{Name: "redis", Port: spec.Redis.Port, TargetPort: intstr.FromString("redis"), Protocol: corev1.ProtocolTCP}},
				Selector: sel,
			},
		}
	}
	return []client.Object{
		&corev1.Service{
			ObjectMeta: meta("rfs-"+name, sentinelLabels),
			Spec: corev1.ServiceSpec{
				Selector: sentinelSel,
				Ports:    []corev1.ServicePort{{Name: "sentinel", Port: spotahomeSentinelPort, TargetPort: intstr.FromInt32(spotahomeSentinelPort), Protocol: corev1.ProtocolTCP}},
			},
		},
		&corev1.ConfigMap{ObjectMeta: meta("rfs-"+name, sentinelLabels), Data: map[string]string{
			"sentinel.conf": "sentinel monitor mymaster 127.0.0.1 6379 2\nsentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 3000\nsentinel parallel-syncs mymaster 2",
		}},
		&corev1.ConfigMap{ObjectMeta: meta("rfr-s-"+name, redisLabels), Data: map[string]string{"shutdown.sh": "redis-cli SAVE"}},
		&corev1.ConfigMap{ObjectMeta: meta("rfr-readiness-"+name, redisLabels), Data: map[string]string{"ready.sh": "exit 0"}},
		&corev1.ConfigMap{ObjectMeta: meta("rfr-"+name, redisLabels), Data: map[string]string{"redis.conf": redisConf}},
		pdb("rfr-"+name, redisLabels),
		spotahomeStatefulSet(rf, spec, meta("rfr-"+name, redisLabels), redisSel, owners),
		pdb("rfs-"+name, sentinelLabels),
		spotahomeDeployment(spec, meta("rfs-"+name, sentinelLabels), sentinelSel),
		roleService("rfrm-"+name, "master"),
		roleService("rfrs-"+name, "slave"),
	}
}

// spotahomeStatefulSet is rfr-N (G generateRedisStatefulSet): the
// RedisFailover's annotations, OnDelete updates, parallel pods, the claim
// template of spec.redis.storage.persistentVolumeClaim carrying the owner
// references unless keepAfterDeletion (so the garbage collector deletes the
// PVCs with the RedisFailover), else an emptyDir.
func spotahomeStatefulSet(rf *unstructured.Unstructured, spec spotahomeSpec, meta metav1.ObjectMeta, sel map[string]string, owners []metav1.OwnerReference) *appsv1.StatefulSet {
	name := rf.GetName()
	meta.Annotations = rf.GetAnnotations()
	dataVolume := "redis-data"
	volumes := []corev1.Volume{
		configMapVolume("redis-config", "rfr-"+name),
		configMapVolume("redis-shutdown-config", "rfr-s-"+name),
		configMapVolume("redis-readiness-config", "rfr-readiness-"+name),
	}
	var claims []corev1.PersistentVolumeClaim
	if pvc := spec.Redis.Storage.PersistentVolumeClaim; pvc != nil {
		claim := pvc.DeepCopy()
		if !spec.Redis.Storage.KeepAfterDeletion {
			claim.OwnerReferences = owners
		}
		if claim.Name != "" {
			dataVolume = claim.Name
		} else {
			claim.Name = dataVolume
		}
		claims = []corev1.PersistentVolumeClaim{*claim}
	} else {
		volumes = append(volumes, corev1.Volume{Name: dataVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	container := corev1.Container{
		Name: "redis", Image: spec.Redis.Image, ImagePullPolicy: corev1.PullIfNotPresent, Resources: spec.Redis.Resources,
		Ports: []corev1.ContainerPort{{Name: "redis", ContainerPort: spec.Redis.Port, Protocol: corev1.ProtocolTCP}},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "redis-config", MountPath: "/redis"},
			{Name: "redis-shutdown-config", MountPath: "/redis-shutdown"},
			{Name: "redis-readiness-config", MountPath: "/redis-readiness"},
			{Name: dataVolume, MountPath: "/data"},
		},
		Command: []string{"redis-server", "/redis/redis.conf"},
	}
	if spec.Auth.SecretPath != "" {
		container.Env = []corev1.EnvVar{{Name: "REDIS_PASSWORD", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: spec.Auth.SecretPath}, Key: "password"},
		}}}
	}
	return &appsv1.StatefulSet{
		ObjectMeta: meta,
		Spec: appsv1.StatefulSetSpec{
			ServiceName:         "rfr-" + name,
			Replicas:            ptr.To(spec.Redis.Replicas),
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType},
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: meta.Labels},
				Spec: corev1.PodSpec{
					Affinity:          spotahomeAffinity(meta.Labels),
					Tolerations:       spec.Redis.Tolerations,
					NodeSelector:      spec.Redis.NodeSelector,
					PriorityClassName: spec.Redis.PriorityClassName,
					Containers:        []corev1.Container{container},
					Volumes:           volumes,
				},
			},
			VolumeClaimTemplates: claims,
		},
	}
}

// spotahomeDeployment is rfs-N (G generateSentinelDeployment).
func spotahomeDeployment(spec spotahomeSpec, meta metav1.ObjectMeta, sel map[string]string) *appsv1.Deployment {
	small := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")}
	return &appsv1.Deployment{
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(spec.Sentinel.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: meta.Labels},
				Spec: corev1.PodSpec{
					Affinity:          spotahomeAffinity(meta.Labels),
					Tolerations:       spec.Sentinel.Tolerations,
					NodeSelector:      spec.Sentinel.NodeSelector,
					PriorityClassName: spec.Sentinel.PriorityClassName,
					InitContainers: []corev1.Container{{
						Name: "sentinel-config-copy", Image: spec.Sentinel.Image, ImagePullPolicy: corev1.PullIfNotPresent,
						Command:      []string{"cp", "/redis/sentinel.conf", "/redis-writable/sentinel.conf"},
						Resources:    corev1.ResourceRequirements{Requests: small, Limits: small},
						VolumeMounts: []corev1.VolumeMount{{Name: "sentinel-config", MountPath: "/redis"}, {Name: "sentinel-config-writable", MountPath: "/redis-writable"}},
					}},
					Containers: []corev1.Container{{
						Name: "sentinel", Image: spec.Sentinel.Image, ImagePullPolicy: corev1.PullIfNotPresent, Resources: spec.Sentinel.Resources,
						Command:      []string{"redis-server", "/redis/sentinel.conf", "--sentinel"},
						Ports:        []corev1.ContainerPort{{Name: "sentinel", ContainerPort: spotahomeSentinelPort, Protocol: corev1.ProtocolTCP}},
						VolumeMounts: []corev1.VolumeMount{{Name: "sentinel-config-writable", MountPath: "/redis"}},
					}},
					Volumes: []corev1.Volume{
						configMapVolume("sentinel-config", meta.Name),
						{Name: "sentinel-config-writable", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
}

// spotahomeAffinity is getAffinity's default (G): prefer spreading the
// pods over hosts.
func spotahomeAffinity(labels map[string]string) *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				TopologyKey:   "kubernetes.io/hostname",
				LabelSelector: &metav1.LabelSelector{MatchLabels: labels},
			},
		}},
	}}
}

func configMapVolume(name, configMap string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: configMap},
	}}}
}

// createOrReplace creates obj or replaces the stored object with it in a
// full Update at the stored resourceVersion, dropping labels and
// annotations anyone else added (K service.go CreateOrUpdateService and its
// siblings). A StatefulSet keeps its stored volume claim templates and
// annotations merged in (K statefulset.go CreateOrUpdateStatefulSet).
func (r *spotahomeReconciler) createOrReplace(ctx context.Context, obj client.Object) error {
	key := client.ObjectKeyFromObject(obj)
	current, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("copying %T", obj)
	}
	err := r.reader.Get(ctx, key, current)
	if apierrors.IsNotFound(err) {
		if err := r.client.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %T %s: %w", obj, key, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	obj.SetResourceVersion(current.GetResourceVersion())
	if sts, ok := obj.(*appsv1.StatefulSet); ok {
		stored := current.(*appsv1.StatefulSet)
		sts.Spec.VolumeClaimTemplates = stored.Spec.VolumeClaimTemplates
		annotations := maps.Clone(stored.Annotations)
		if annotations == nil {
			annotations = map[string]string{}
		}
		maps.Copy(annotations, sts.Annotations)
		sts.Annotations = annotations
	}
	if err := r.client.Update(ctx, obj); err != nil {
		return fmt.Errorf("updating %T %s: %w", obj, key, err)
	}
	return nil
}

// labelPods is CheckAndHeal's labelling: once every Redis pod runs, the
// master is labelled redisfailovers-role=master and the others slave
// (operator/redisfailover/service/check.go). Which pod is master is
// Redis's business; the emulator keeps the labelled one while it runs, else
// picks the lowest ordinal.
func (r *spotahomeReconciler) labelPods(ctx context.Context, rf *unstructured.Unstructured, spec spotahomeSpec) error {
	pods := &corev1.PodList{}
	if err := r.client.List(ctx, pods, client.InNamespace(rf.GetNamespace()), client.MatchingLabels(spotahomeSelector("redis", rf.GetName()))); err != nil {
		return fmt.Errorf("listing redis pods of %s/%s: %w", rf.GetNamespace(), rf.GetName(), err)
	}
	roles := assignRoles(pods.Items, SpotahomeRoleLabel, "master", "slave")
	if len(roles) != int(spec.Redis.Replicas) || len(roles) != len(pods.Items) {
		return nil
	}
	for pod, role := range roles {
		if err := patchPodLabel(ctx, r.client, pods.Items, pod, SpotahomeRoleLabel, role); err != nil {
			return err
		}
	}
	return nil
}
