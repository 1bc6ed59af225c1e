package join

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	admissionregistrationv1ac "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/membercluster"
	"github.com/berth-io/berth/hub/kubeconfig"
)

// Names of the bootstrap objects.
const (
	// Namespace holds the bootstrap ServiceAccounts.
	Namespace = membercluster.BootstrapNamespace
	// ClusterRoleName lets bootstrap identities create MemberClusters.
	ClusterRoleName = "berth:bootstrap"
	// PolicyName is the ValidatingAdmissionPolicy and its binding.
	PolicyName = "berth-bootstrap-join"
	// LabelBootstrap marks bootstrap ServiceAccounts and bindings.
	LabelBootstrap = "fleet.berth.io/bootstrap"
	// AnnotationExpires on a bootstrap ServiceAccount is its token's expiry.
	AnnotationExpires = "fleet.berth.io/token-expires"
	// MinTTL is the shortest expiry the TokenRequest API grants.
	MinTTL = 10 * time.Minute
	// FieldManager applies the bootstrap policy.
	FieldManager = "berth-hub"
)

// usernamePrefix starts every bootstrap identity's username.
const usernamePrefix = "system:serviceaccount:" + Namespace + ":" + membercluster.BootstrapServiceAccountPrefix

// EnsurePolicy installs the bootstrap Namespace, ClusterRole and admission
// policy. It is idempotent.
func EnsurePolicy(ctx context.Context, c client.Client) error {
	memberRule := func() *admissionregistrationv1ac.NamedRuleWithOperationsApplyConfiguration {
		r := admissionregistrationv1ac.NamedRuleWithOperations().
			WithOperations(admissionregistrationv1.Create, admissionregistrationv1.Update)
		r.WithAPIGroups(fleetv1alpha1.GroupVersion.Group).WithAPIVersions("*").WithResources("memberclusters")
		return r
	}
	validation := func(expr, msg string) *admissionregistrationv1ac.ValidationApplyConfiguration {
		return admissionregistrationv1ac.Validation().WithExpression(expr).WithMessage(msg)
	}
	objs := []runtime.ApplyConfiguration{
		corev1ac.Namespace(Namespace),
		rbacv1ac.ClusterRole(ClusterRoleName).WithLabels(map[string]string{LabelBootstrap: "true"}).WithRules(
			rbacv1ac.PolicyRule().WithAPIGroups(fleetv1alpha1.GroupVersion.Group).WithResources("memberclusters").WithVerbs("create"),
		),
		admissionregistrationv1ac.ValidatingAdmissionPolicy(PolicyName).WithSpec(admissionregistrationv1ac.ValidatingAdmissionPolicySpec().
			WithFailurePolicy(admissionregistrationv1.Fail).
			WithMatchConstraints(admissionregistrationv1ac.MatchResources().WithResourceRules(memberRule())).
			WithMatchConditions(admissionregistrationv1ac.MatchCondition().WithName("bootstrap-identity").
				WithExpression(fmt.Sprintf("request.userInfo.username.startsWith(%q)", usernamePrefix))).
			WithValidations(
				validation("!has(object.spec.accepted) || object.spec.accepted == false",
					"spec.accepted: a joining cluster cannot accept itself; the hub admin runs `berthctl accept`"),
				validation("!has(object.spec.clusterRef)", "spec.clusterRef: must be empty for a manual join"),
				validation("!has(object.spec.taints) || size(object.spec.taints) == 0", "spec.taints: must be empty for a manual join"),
				validation(fmt.Sprintf("has(object.metadata.annotations) && %q in object.metadata.annotations && object.metadata.annotations[%q] == request.userInfo.username",
					fleetv1alpha1.AnnotationJoinedBy, fleetv1alpha1.AnnotationJoinedBy),
					"metadata.annotations["+fleetv1alpha1.AnnotationJoinedBy+"]: must be the joining identity's username"),
			)),
		admissionregistrationv1ac.ValidatingAdmissionPolicyBinding(PolicyName).WithSpec(admissionregistrationv1ac.ValidatingAdmissionPolicyBindingSpec().
			WithPolicyName(PolicyName).
			WithValidationActions(admissionregistrationv1.Deny)),
	}
	for _, o := range objs {
		if err := c.Apply(ctx, o, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying bootstrap policy object %T: %w", o, err)
		}
	}
	return nil
}

// Token is a bootstrap credential.
type Token struct {
	// ServiceAccount is the name of its ServiceAccount in Namespace.
	ServiceAccount string
	// Username is the identity the hub sees.
	Username string
	// Token is the bearer token.
	Token string
	// Expires is when the apiserver stops accepting Token.
	Expires time.Time
}

// CreateToken creates a bootstrap identity and a token for it that expires
// after ttl. c needs admin rights on the hub.
func CreateToken(ctx context.Context, c client.Client, ttl time.Duration) (*Token, error) {
	if ttl < MinTTL {
		return nil, fmt.Errorf("ttl: %s is shorter than the minimum %s", ttl, MinTTL)
	}
	if err := EnsurePolicy(ctx, c); err != nil {
		return nil, err
	}
	id, err := randomID(6)
	if err != nil {
		return nil, err
	}
	name := membercluster.BootstrapServiceAccountPrefix + id
	expires := time.Now().Add(ttl)
	labels := map[string]string{LabelBootstrap: "true"}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: Namespace, Labels: labels,
		Annotations: map[string]string{AnnotationExpires: expires.UTC().Format(time.RFC3339)},
	}}
	if err := c.Create(ctx, sa); err != nil {
		return nil, fmt.Errorf("creating ServiceAccount %s/%s: %w", Namespace, name, err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName + ":" + id, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ClusterRoleName},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: Namespace}},
	}
	if err := c.Create(ctx, crb); err != nil {
		return nil, fmt.Errorf("creating ClusterRoleBinding %s: %w", crb.Name, err)
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: ptr.To(int64(ttl / time.Second)),
	}}
	if err := c.SubResource("token").Create(ctx, sa, req); err != nil {
		return nil, fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", Namespace, name, err)
	}
	return &Token{
		ServiceAccount: name,
		Username:       "system:serviceaccount:" + Namespace + ":" + name,
		Token:          req.Status.Token,
		Expires:        req.Status.ExpirationTimestamp.Time,
	}, nil
}

// Kubeconfig returns a kubeconfig for server and caData that
// authenticates with the bootstrap token.
func (t *Token) Kubeconfig(server string, caData []byte) ([]byte, error) {
	return kubeconfig.ForToken("berth-bootstrap", server, caData, t.Token)
}

func randomID(n int) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("generating a token id: %w", err)
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}

// DeleteExpired deletes bootstrap ServiceAccounts (and their bindings)
// whose token expired before now, and returns how many.
func DeleteExpired(ctx context.Context, c client.Client, now time.Time) (int, error) {
	list := &corev1.ServiceAccountList{}
	if err := c.List(ctx, list, client.InNamespace(Namespace), client.MatchingLabels{LabelBootstrap: "true"}); err != nil {
		return 0, fmt.Errorf("listing bootstrap ServiceAccounts: %w", err)
	}
	n := 0
	var errs []error
	for i := range list.Items {
		sa := &list.Items[i]
		expires, err := time.Parse(time.RFC3339, sa.Annotations[AnnotationExpires])
		if err != nil || now.Before(expires) {
			continue
		}
		id := strings.TrimPrefix(sa.Name, membercluster.BootstrapServiceAccountPrefix)
		crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName + ":" + id}}
		for _, o := range []client.Object{crb, sa} {
			if err := c.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting %T %s: %w", o, o.GetName(), err))
			}
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Join creates a MemberCluster awaiting acceptance, as the identity of c
// (a bootstrap token). role may be empty for Workload.
func Join(ctx context.Context, c client.Client, name string, role fleetv1alpha1.MemberRole) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 || len(name) > 50 {
		return fmt.Errorf("name: %q must be a DNS-1123 label of at most 50 characters", name)
	}
	switch role {
	case "":
		role = fleetv1alpha1.RoleWorkload
	case fleetv1alpha1.RoleWorkload, fleetv1alpha1.RoleManagement, fleetv1alpha1.RoleServices:
	default:
		return fmt.Errorf("role: %q is not one of Workload, Management, Services", role)
	}
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return fmt.Errorf("asking the hub who this token is (SelfSubjectReview): %w", err)
	}
	m := &fleetv1alpha1.MemberCluster{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{fleetv1alpha1.AnnotationJoinedBy: review.Status.UserInfo.Username},
		},
		Spec: fleetv1alpha1.MemberClusterSpec{Role: role, Accepted: false},
	}
	if err := c.Create(ctx, m); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("MemberCluster %s already exists; choose another --name", name)
		}
		return fmt.Errorf("creating MemberCluster %s: %w", name, err)
	}
	return nil
}

// WaitForCredentials polls until the accepted member's hub-kubeconfig
// Secret is readable with c, and returns the kubeconfig in it. Transient
// errors are retried; an expired or revoked token is not.
func WaitForCredentials(ctx context.Context, c client.Client, name string, poll time.Duration) ([]byte, error) {
	key := client.ObjectKey{Namespace: membercluster.NamespaceFor(name), Name: membercluster.HubKubeconfigSecret}
	t := time.NewTicker(poll)
	defer t.Stop()
	var lastErr error
	for {
		s := &corev1.Secret{}
		err := c.Get(ctx, key, s)
		switch {
		case err == nil && len(s.Data[kubeconfig.SecretKey]) > 0:
			return s.Data[kubeconfig.SecretKey], nil
		case err == nil, apierrors.IsNotFound(err), apierrors.IsForbidden(err):
			// Not accepted or not registered yet.
		case apierrors.IsUnauthorized(err):
			return nil, fmt.Errorf("reading Secret %s: the bootstrap token expired or was revoked: %w", key, err)
		default:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, fmt.Errorf("waiting for member %s to be accepted and registered: %w (last error: %v)", name, ctx.Err(), lastErr)
			}
			return nil, fmt.Errorf("waiting for member %s to be accepted and registered: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}

// Accept sets spec.accepted on a MemberCluster and reports whether it
// changed anything.
func Accept(ctx context.Context, c client.Client, name string) (bool, error) {
	m := &fleetv1alpha1.MemberCluster{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, m); err != nil {
		if apierrors.IsNotFound(err) {
			return false, fmt.Errorf("MemberCluster %s does not exist", name)
		}
		return false, fmt.Errorf("getting MemberCluster %s: %w", name, err)
	}
	if m.Spec.Accepted {
		return false, nil
	}
	before := m.DeepCopy()
	m.Spec.Accepted = true
	if err := c.Patch(ctx, m, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return false, fmt.Errorf("accepting MemberCluster %s: %w", name, err)
	}
	return true, nil
}
