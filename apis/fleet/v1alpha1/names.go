package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// MemberNamespacePrefix prefixes every member's hub namespace.
const MemberNamespacePrefix = "berth-member-"

// MemberNamespace is the hub namespace of a member: berth-member-<member>.
// The member's ServiceWorks, Lease, credentials and peers ConfigMap live there.
func MemberNamespace(member string) string {
	return MemberNamespacePrefix + member
}

// ServiceKey is <namespace>.<name> of a ManagedService. It names the
// service's ServiceWorks (dots cannot occur in either part, so the key is
// unambiguous) and is the value of LabelManagedService.
func ServiceKey(namespace, name string) string {
	return namespace + "." + name
}

// ServiceLabelValue is ServiceKey made safe for a label value (at most 63
// characters): keys that are too long keep a readable prefix and end in a
// hash of the whole key. Both LabelManagedService and LabelServiceWork carry
// it, so objects of one service are selected with one label.
func ServiceLabelValue(namespace, name string) string {
	key := ServiceKey(namespace, name)
	if len(key) <= 63 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	prefix := strings.TrimRight(key[:52], "-_.")
	return prefix + "-" + hex.EncodeToString(sum[:])[:10]
}
