package framework

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LabelProvisionedBy marks the PersistentVolumes ProvisionVolumes creates.
const LabelProvisionedBy = "fleet.berth.io/test-provisioner"

// ProvisionVolumes plays a storage driver for a kwok cluster, which has none:
// until ctx ends it gives every Pending PersistentVolumeClaim a matching
// PersistentVolume pre-bound through claimRef, and the cluster's real
// PersistentVolume controller binds the two. Reclaim policy Retain keeps the
// volume after its claim is deleted, as for real data.
func ProvisionVolumes(ctx context.Context, c client.Client, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := provisionOnce(ctx, c); err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func provisionOnce(ctx context.Context, c client.Client) error {
	pvcs := &corev1.PersistentVolumeClaimList{}
	if err := c.List(ctx, pvcs); err != nil {
		return fmt.Errorf("listing claims: %w", err)
	}
	for i := range pvcs.Items {
		pvc := &pvcs.Items[i]
		if pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil {
			continue
		}
		size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		if size.IsZero() {
			size = resource.MustParse("1Gi")
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{
				Name:   "pv-" + string(pvc.UID),
				Labels: map[string]string{LabelProvisionedBy: "true"},
			},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
				AccessModes:                   pvc.Spec.AccessModes,
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				StorageClassName:              ptrValue(pvc.Spec.StorageClassName),
				PersistentVolumeSource: corev1.PersistentVolumeSource{
					HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/berth-test/" + string(pvc.UID)},
				},
				ClaimRef: &corev1.ObjectReference{
					Kind: "PersistentVolumeClaim", APIVersion: "v1",
					Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
				},
			},
		}
		if err := c.Create(ctx, pv); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating volume for %s/%s: %w", pvc.Namespace, pvc.Name, err)
		}
	}
	return nil
}

func ptrValue(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
