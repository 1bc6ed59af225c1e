package registration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// MaxMemberNameLength keeps berth-member-<name> a valid namespace name.
const MaxMemberNameLength = 50

// MemberName returns the name of the member for a Cluster: its
// fleet.berth.io/member-name annotation, else a DNS-1123 label made from
// `<namespace>-<name>`.
func MemberName(c *clusterv1.Cluster) (string, error) {
	if v, ok := c.Annotations[fleetv1alpha1.AnnotationMemberName]; ok {
		if errs := validation.IsDNS1123Label(v); len(errs) > 0 {
			return "", fmt.Errorf("annotation %s: %q is not a DNS-1123 label: %s", fleetv1alpha1.AnnotationMemberName, v, strings.Join(errs, "; "))
		}
		if len(v) > MaxMemberNameLength {
			return "", fmt.Errorf("annotation %s: %q is longer than %d characters", fleetv1alpha1.AnnotationMemberName, v, MaxMemberNameLength)
		}
		return v, nil
	}
	return dnsLabel(c.Namespace + "-" + c.Name), nil
}

// dnsLabel turns s into a DNS-1123 label of at most MaxMemberNameLength
// characters. When s had to be changed beyond lowercasing, an 8-character
// hash of s is appended so distinct inputs stay distinct.
func dnsLabel(s string) string {
	lower := strings.ToLower(s)
	var b strings.Builder
	for _, r := range lower {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == lower && len(out) <= MaxMemberNameLength {
		return out
	}
	sum := sha256.Sum256([]byte(s))
	suffix := hex.EncodeToString(sum[:])[:8]
	keep := MaxMemberNameLength - len(suffix) - 1
	if len(out) > keep {
		out = out[:keep]
	}
	out = strings.Trim(out, "-")
	if out == "" {
		return "m-" + suffix
	}
	return out + "-" + suffix
}

// MemberRole returns the role for a Cluster from its fleet.berth.io/role
// label; Workload when unset.
func MemberRole(c *clusterv1.Cluster) (fleetv1alpha1.MemberRole, error) {
	v, ok := c.Labels[fleetv1alpha1.LabelRole]
	if !ok || v == "" {
		return fleetv1alpha1.RoleWorkload, nil
	}
	switch r := fleetv1alpha1.MemberRole(v); r {
	case fleetv1alpha1.RoleWorkload, fleetv1alpha1.RoleManagement, fleetv1alpha1.RoleServices:
		return r, nil
	}
	return "", fmt.Errorf("label %s: %q is not one of Workload, Management, Services", fleetv1alpha1.LabelRole, v)
}
