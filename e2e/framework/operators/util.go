package operators

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// decodeSpec decodes u's spec into out, a struct with json tags, as the
// operators' typed clients do.
func decodeSpec(u *unstructured.Unstructured, out any) error {
	raw, err := json.Marshal(u.Object["spec"])
	if err == nil {
		err = json.Unmarshal(raw, out)
	}
	if err != nil {
		return fmt.Errorf("spec of %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

// mergeLabels merges maps left to right: later keys win.
func mergeLabels(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		maps.Copy(out, s)
	}
	return out
}

// controllerRef is a controller ownerReference to u, with
// blockOwnerDeletion, as metav1.NewControllerRef and controllerutil set it.
func controllerRef(u *unstructured.Unstructured) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Name: u.GetName(), UID: u.GetUID(),
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

// randomString returns n random characters from the alphabet.
func randomString(n int, alphabet string) (string, error) {
	var b strings.Builder
	limit := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String(), nil
}

// randomBase64 returns n random bytes, URL-safe base64 encoded.
func randomBase64(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// podOrdinal is the ordinal of a StatefulSet pod named <sts>-<i>, or -1.
func podOrdinal(pod *corev1.Pod) int {
	i := strings.LastIndexByte(pod.Name, '-')
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(pod.Name[i+1:])
	if err != nil {
		return -1
	}
	return n
}

// assignRoles decides which running pod is the primary: the one already
// labelled primary if it still runs, else the running pod with the lowest
// ordinal. It returns the wanted role label value per pod name, for
// running pods only.
func assignRoles(pods []corev1.Pod, roleLabel, primary, secondary string) map[string]string {
	var running []corev1.Pod
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			running = append(running, p)
		}
	}
	sort.Slice(running, func(i, j int) bool { return podOrdinal(&running[i]) < podOrdinal(&running[j]) })
	master := ""
	for _, p := range running {
		if p.Labels[roleLabel] == primary {
			master = p.Name
			break
		}
	}
	if master == "" && len(running) > 0 {
		master = running[0].Name
	}
	roles := map[string]string{}
	for _, p := range running {
		roles[p.Name] = secondary
		if p.Name == master {
			roles[p.Name] = primary
		}
	}
	return roles
}

// resourceList parses a map of quantities, naming field on error.
func resourceList(field string, in map[string]string) (corev1.ResourceList, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := corev1.ResourceList{}
	for k, v := range in {
		if v == "" {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", field, k, err)
		}
		out[corev1.ResourceName(k)] = q
	}
	return out, nil
}

// mergeQuantities returns base with over's entries set over it.
func mergeQuantities(base, over corev1.ResourceList) corev1.ResourceList {
	out := base.DeepCopy()
	for k, v := range over {
		out[k] = v
	}
	return out
}

// patchPodLabel sets label key=value on the named pod of pods with a merge
// patch, unless it is set already.
func patchPodLabel(ctx context.Context, c client.Client, pods []corev1.Pod, name, key, value string) error {
	for i := range pods {
		pod := &pods[i]
		if pod.Name != name || pod.Labels[key] == value {
			continue
		}
		patch := []byte(fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, key, value))
		if err := c.Patch(ctx, pod, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("labelling pod %s/%s %s=%s: %w", pod.Namespace, pod.Name, key, value, err)
		}
	}
	return nil
}
