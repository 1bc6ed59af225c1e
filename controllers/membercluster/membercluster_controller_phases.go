package membercluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/hub/kubeconfig"
	"github.com/berth-io/berth/hub/spokeinstall"
)

// Annotations on the hub-kubeconfig Secret that record its token's life.
const (
	// AnnotationTokenIssued is when the token was requested (RFC 3339).
	AnnotationTokenIssued = "fleet.berth.io/token-issued"
	// AnnotationTokenExpires is when the token expires (RFC 3339).
	AnnotationTokenExpires = "fleet.berth.io/token-expires"
)

// remoteTimeout bounds each request to a member cluster.
const remoteTimeout = 30 * time.Second

func (r *Reconciler) labels(s *scope) map[string]string {
	return map[string]string{fleetv1alpha1.LabelMember: s.member.Name, "app.kubernetes.io/managed-by": "berth-hub"}
}

// own sets labels and the controller reference of the member on obj.
func (r *Reconciler) own(s *scope, obj client.Object) error {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, r.labels(s))
	obj.SetLabels(l)
	return controllerutil.SetControllerReference(s.member, obj, r.Client.Scheme())
}

// reconcileCluster reads the member's CAPI Cluster, if any.
func (r *Reconciler) reconcileCluster(ctx context.Context, s *scope) (ctrl.Result, error) {
	ref := s.member.Spec.ClusterRef
	if ref == nil {
		return ctrl.Result{}, nil
	}
	cluster := &clusterv1.Cluster{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, cluster); err != nil {
		if apierrors.IsNotFound(err) {
			s.reg.clusterGone = true
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("getting Cluster %s: %w", s.reg.clusterRef, err)
	}
	s.cluster = cluster
	s.reg.clusterDeleting = !cluster.DeletionTimestamp.IsZero()
	_, pausedAnnotation := cluster.Annotations[clusterv1.PausedAnnotation]
	s.reg.clusterPaused = ptr.Deref(cluster.Spec.Paused, false) || pausedAnnotation
	return ctrl.Result{}, nil
}

// reconcileNamespace creates the member's hub namespace.
func (r *Reconciler) reconcileNamespace(ctx context.Context, s *scope) (ctrl.Result, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.namespace}}
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(ns), ns); err == nil && !ns.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, fmt.Errorf("hub namespace %s is still terminating from an earlier member of that name", s.namespace)
	}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, ns, func() error { return r.own(s, ns) }); err != nil {
		return ctrl.Result{}, fmt.Errorf("creating hub namespace %s: %w", s.namespace, err)
	}
	return ctrl.Result{}, nil
}

// reconcileIdentity creates the spoke's ServiceAccount and RBAC.
func (r *Reconciler) reconcileIdentity(ctx context.Context, s *scope) (ctrl.Result, error) {
	name := s.member.Name
	spokeSubject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: SpokeServiceAccount, Namespace: s.namespace}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: SpokeServiceAccount, Namespace: s.namespace}}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: SpokeServiceAccount, Namespace: s.namespace}}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: SpokeServiceAccount, Namespace: s.namespace}}
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName(name)}}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName(name)}}
	objs := []struct {
		obj    client.Object
		mutate func()
	}{
		{sa, func() {}},
		{role, func() { role.Rules = SpokeRules() }},
		{rb, func() {
			rb.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: SpokeServiceAccount}
			rb.Subjects = spokeSubject
		}},
		{cr, func() { cr.Rules = ClusterRules(name) }},
		{crb, func() {
			crb.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ClusterRoleName(name)}
			crb.Subjects = spokeSubject
		}},
	}
	// A manual join's bootstrap identity may fetch the credentials.
	if joiner := joinerServiceAccount(s.member.Annotations[fleetv1alpha1.AnnotationJoinedBy]); joiner != "" {
		jr := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: JoinerRole, Namespace: s.namespace}}
		jrb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: JoinerRole, Namespace: s.namespace}}
		objs = append(objs,
			struct {
				obj    client.Object
				mutate func()
			}{jr, func() { jr.Rules = JoinerRules() }},
			struct {
				obj    client.Object
				mutate func()
			}{jrb, func() {
				jrb.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: JoinerRole}
				jrb.Subjects = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: joiner, Namespace: BootstrapNamespace}}
			}})
	}
	for _, o := range objs {
		if _, err := controllerutil.CreateOrPatch(ctx, r.Client, o.obj, func() error {
			o.mutate()
			return r.own(s, o.obj)
		}); err != nil {
			return ctrl.Result{}, fmt.Errorf("reconciling %T %s for member %s: %w", o.obj, client.ObjectKeyFromObject(o.obj), name, err)
		}
	}
	return ctrl.Result{}, nil
}

// reconcileCredentials keeps a fresh bound token of the spoke's
// ServiceAccount in the hub-kubeconfig Secret.
func (r *Reconciler) reconcileCredentials(ctx context.Context, s *scope) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	now := time.Now()
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: s.namespace, Name: HubKubeconfigSecret}
	err := r.Client.Get(ctx, key, secret)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("getting Secret %s: %w", key, err)
	}
	if err == nil {
		if refreshAt, ok := r.credentialsValid(secret, now); ok {
			s.hubKubeconfig = hubKubeconfigFromSecret(secret)
			return ctrl.Result{RequeueAfter: refreshAt.Sub(now)}, nil
		}
	}

	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: ptr.To(int64(r.TokenExpiration / time.Second)),
	}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: SpokeServiceAccount, Namespace: s.namespace}}
	if err := r.Client.SubResource("token").Create(ctx, sa, req); err != nil {
		return ctrl.Result{}, fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", s.namespace, SpokeServiceAccount, err)
	}
	issued := now
	expires := req.Status.ExpirationTimestamp.Time
	data, err := kubeconfig.ForToken("berth-hub", r.HubServer, r.HubCAData, req.Status.Token)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("building the hub kubeconfig of member %s: %w", s.member.Name, err)
	}
	secret = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: HubKubeconfigSecret, Namespace: s.namespace}}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, secret, func() error {
		secret.Type = corev1.SecretTypeOpaque
		secret.Data = map[string][]byte{kubeconfig.SecretKey: data}
		if secret.Annotations == nil {
			secret.Annotations = map[string]string{}
		}
		secret.Annotations[AnnotationTokenIssued] = issued.UTC().Format(time.RFC3339)
		secret.Annotations[AnnotationTokenExpires] = expires.UTC().Format(time.RFC3339)
		return r.own(s, secret)
	}); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing Secret %s: %w", key, err)
	}
	s.hubKubeconfig = data
	refreshAt := refreshTime(issued, expires)
	log.Info("Issued spoke hub credentials", "member", klog.KObj(s.member), "expires", expires, "refreshAt", refreshAt)
	return ctrl.Result{RequeueAfter: refreshAt.Sub(now)}, nil
}

// refreshTime is two thirds into a token's life.
func refreshTime(issued, expires time.Time) time.Time {
	return issued.Add(expires.Sub(issued) * 2 / 3)
}

// credentialsValid reports whether the Secret holds a token that is not due
// for refresh and a kubeconfig for the current hub URL and CA, and when it
// is due.
func (r *Reconciler) credentialsValid(secret *corev1.Secret, now time.Time) (time.Time, bool) {
	issued, err1 := time.Parse(time.RFC3339, secret.Annotations[AnnotationTokenIssued])
	expires, err2 := time.Parse(time.RFC3339, secret.Annotations[AnnotationTokenExpires])
	if err1 != nil || err2 != nil || !expires.After(issued) {
		return time.Time{}, false
	}
	refreshAt := refreshTime(issued, expires)
	if !now.Before(refreshAt) {
		return time.Time{}, false
	}
	rc, err := kubeconfig.RESTConfig(hubKubeconfigFromSecret(secret))
	if err != nil || rc.Host != r.HubServer || !bytes.Equal(rc.CAData, r.HubCAData) || rc.BearerToken == "" {
		return time.Time{}, false
	}
	return refreshAt, true
}

// reconcileSpokeInstall installs berth-spoke into a member from CAPI.
func (r *Reconciler) reconcileSpokeInstall(ctx context.Context, s *scope) (ctrl.Result, error) {
	ref := s.member.Spec.ClusterRef
	switch {
	case ref == nil:
		return ctrl.Result{}, nil
	case r.SpokeImage == "":
		s.reg.spokeNote = "the hub has no spoke image, so the spoke is not installed by the hub"
		return ctrl.Result{}, nil
	case s.cluster == nil || s.reg.clusterDeleting || s.reg.clusterPaused:
		return ctrl.Result{}, nil
	}
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: ref.Namespace, Name: kubeconfig.CAPISecretName(ref.Name)}
	if err := r.Client.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, withReason(fleetv1alpha1.ReasonKubeconfigMissing,
				fmt.Errorf("cannot install the spoke: Secret %s does not exist", key))
		}
		return ctrl.Result{}, fmt.Errorf("getting Secret %s: %w", key, err)
	}
	cfg, err := kubeconfig.FromCAPISecret(secret)
	if err != nil {
		return ctrl.Result{}, withReason(fleetv1alpha1.ReasonKubeconfigInvalid, fmt.Errorf("cannot install the spoke: %w", err))
	}
	opts := spokeinstall.Options{
		MemberName:          s.member.Name,
		HubNamespace:        s.namespace,
		Image:               r.SpokeImage,
		HubKubeconfig:       s.hubKubeconfig,
		ExposureSourceCIDRs: r.SpokeExposureSourceCIDRs,
	}
	sum := sha256.New()
	for _, part := range [][]byte{[]byte(opts.Image), opts.HubKubeconfig, []byte(secret.ResourceVersion), []byte(string(secret.UID)), []byte(strings.Join(opts.ExposureSourceCIDRs, ","))} {
		sum.Write(part)
		sum.Write([]byte{0})
	}
	hash := hex.EncodeToString(sum.Sum(nil))
	if prev, ok := r.installed.Load(s.member.Name); ok && prev == hash {
		s.reg.spokeNote = "spoke installed in the member cluster"
		return ctrl.Result{}, nil
	}
	cfg.Timeout = remoteTimeout
	remote, err := r.RemoteClient(cfg)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("creating a client for Cluster %s: %w", s.reg.clusterRef, err)
	}
	if err := spokeinstall.Apply(ctx, remote, opts); err != nil {
		return ctrl.Result{}, fmt.Errorf("installing the spoke into Cluster %s: %w", s.reg.clusterRef, err)
	}
	r.installed.Store(s.member.Name, hash)
	s.reg.spokeNote = "spoke installed in the member cluster"
	ctrl.LoggerFrom(ctx).Info("Installed spoke", "member", klog.KObj(s.member), "cluster", s.reg.clusterRef, "image", r.SpokeImage)
	return ctrl.Result{}, nil
}

// uninstallSpoke removes the spoke from a member cluster that outlives its
// membership. Failures are reported, not retried: the member is going away.
func (r *Reconciler) uninstallSpoke(ctx context.Context, s *scope) {
	ref := s.member.Spec.ClusterRef
	cluster := &clusterv1.Cluster{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, cluster); err != nil ||
		!cluster.DeletionTimestamp.IsZero() {
		return // The cluster itself is going away.
	}
	secret := &corev1.Secret{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: kubeconfig.CAPISecretName(ref.Name)}, secret); err != nil {
		return
	}
	err := func() error {
		cfg, err := kubeconfig.FromCAPISecret(secret)
		if err != nil {
			return err
		}
		cfg.Timeout = remoteTimeout
		remote, err := r.RemoteClient(cfg)
		if err != nil {
			return err
		}
		return spokeinstall.Delete(ctx, remote)
	}()
	if err != nil {
		r.Recorder.Eventf(s.member, nil, corev1.EventTypeWarning, "UninstallFailed", "Delete",
			"Could not remove the spoke from Cluster %s: %v", s.reg.clusterRef, err)
	}
}

// reconcilePeers writes the peers ConfigMap: every other member's probe
// endpoint.
func (r *Reconciler) reconcilePeers(ctx context.Context, s *scope) (ctrl.Result, error) {
	list := &fleetv1alpha1.MemberClusterList{}
	if err := r.Client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing MemberClusters: %w", err)
	}
	data := map[string]string{}
	for _, m := range list.Items {
		if m.Name == s.member.Name || m.Status.ProbeEndpoint == "" || !m.DeletionTimestamp.IsZero() {
			continue
		}
		data[m.Name] = m.Status.ProbeEndpoint
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: PeersConfigMap, Namespace: s.namespace}}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, cm, func() error {
		cm.Data = data
		return r.own(s, cm)
	}); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing ConfigMap %s/%s: %w", s.namespace, PeersConfigMap, err)
	}
	return ctrl.Result{}, nil
}

// reconcileAvailability judges the spoke's Lease.
func (r *Reconciler) reconcileAvailability(ctx context.Context, s *scope) (ctrl.Result, error) {
	lease := &coordinationv1.Lease{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: LeaseName}, lease)
	switch {
	case apierrors.IsNotFound(err):
		lease = nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("getting Lease %s/%s: %w", s.namespace, LeaseName, err)
	}
	a := setAvailableCondition(lease, time.Now(), r.LeaseGraceFactor)
	s.avail = &a
	return ctrl.Result{RequeueAfter: a.recheckAfter}, nil
}
