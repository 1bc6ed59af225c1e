package framework

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// KubeconfigSecretName is the name of a cluster's CAPI kubeconfig Secret.
func KubeconfigSecretName(cluster string) string {
	return cluster + "-kubeconfig"
}

// RegisterCAPIClusters writes, in the management cluster's namespace, what a
// Cluster API infrastructure provider and core CAPI leave behind for each
// member: a v1beta2 Cluster labelled fleet.berth.io/role with its control
// plane endpoint, and a <name>-kubeconfig Secret (type
// cluster.x-k8s.io/secret, key value) owned by it. Once the member answers
// through that kubeconfig, the Cluster's status reports it provisioned:
// initialization.{infrastructureProvisioned,controlPlaneInitialized} and the
// InfrastructureReady, ControlPlaneInitialized, ControlPlaneAvailable,
// RemoteConnectionProbe and Available conditions True. It is idempotent.
func RegisterCAPIClusters(ctx context.Context, mgmt *Cluster, namespace string, members []*Cluster) error {
	c, err := mgmt.Client()
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, ns, func() error { return nil }); err != nil {
		return fmt.Errorf("creating namespace %s in %s: %w", namespace, mgmt.Name, err)
	}
	for _, m := range members {
		if err := registerCAPICluster(ctx, c, namespace, m); err != nil {
			return fmt.Errorf("registering %s in %s: %w", m.Name, mgmt.Name, err)
		}
	}
	return nil
}

func registerCAPICluster(ctx context.Context, c client.Client, namespace string, m *Cluster) error {
	kubeconfig, err := os.ReadFile(m.KubeconfigPath)
	if err != nil {
		return fmt.Errorf("reading kubeconfig: %w", err)
	}
	host, port, err := endpointHostPort(m.Endpoint)
	if err != nil {
		return err
	}
	cluster := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: m.Name, Namespace: namespace}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, cluster, func() error {
		if cluster.Labels == nil {
			cluster.Labels = map[string]string{}
		}
		cluster.Labels[fleetv1alpha1.LabelRole] = string(m.Role)
		// The member keeps the cluster's own name (else <namespace>-<name>).
		if cluster.Annotations == nil {
			cluster.Annotations = map[string]string{}
		}
		cluster.Annotations[fleetv1alpha1.AnnotationMemberName] = m.Name
		cluster.Spec.ControlPlaneEndpoint = clusterv1.APIEndpoint{Host: host, Port: port}
		return nil
	}); err != nil {
		return fmt.Errorf("writing Cluster: %w", err)
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: KubeconfigSecretName(m.Name), Namespace: namespace}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, secret, func() error {
		if secret.Labels == nil {
			secret.Labels = map[string]string{}
		}
		secret.Labels[clusterv1.ClusterNameLabel] = m.Name
		secret.Type = clusterv1.ClusterSecretType
		secret.Data = map[string][]byte{"value": kubeconfig}
		return controllerutil.SetControllerReference(cluster, secret, c.Scheme())
	}); err != nil {
		return fmt.Errorf("writing Secret %s: %w", secret.Name, err)
	}

	// Probe the member exactly as CAPI would: through the Secret's kubeconfig.
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return fmt.Errorf("parsing kubeconfig: %w", err)
	}
	if err := waitAPIServerReady(ctx, cfg, time.Minute, nil); err != nil {
		return fmt.Errorf("member does not answer through its kubeconfig: %w", err)
	}
	base := cluster.DeepCopy()
	setProvisionedStatus(cluster, metav1.Now())
	if err := c.Status().Patch(ctx, cluster, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("patching Cluster status: %w", err)
	}
	return nil
}

// setProvisionedStatus sets the status CAPI reports for a Cluster whose
// infrastructure is provisioned and whose control plane answers.
func setProvisionedStatus(cluster *clusterv1.Cluster, now metav1.Time) {
	cluster.Status.Initialization = clusterv1.ClusterInitializationStatus{
		InfrastructureProvisioned: ptr.To(true),
		ControlPlaneInitialized:   ptr.To(true),
	}
	cluster.Status.Phase = string(clusterv1.ClusterPhaseProvisioned)
	cluster.Status.ObservedGeneration = cluster.Generation
	for _, cond := range []metav1.Condition{
		{Type: clusterv1.ClusterInfrastructureReadyCondition, Reason: clusterv1.ClusterInfrastructureReadyReason},
		{Type: clusterv1.ClusterControlPlaneInitializedCondition, Reason: clusterv1.ClusterControlPlaneInitializedReason},
		{Type: clusterv1.ClusterControlPlaneAvailableCondition, Reason: clusterv1.ClusterControlPlaneAvailableReason},
		{Type: clusterv1.ClusterRemoteConnectionProbeCondition, Reason: clusterv1.ClusterRemoteConnectionProbeSucceededReason},
		{Type: clusterv1.ClusterAvailableCondition, Reason: clusterv1.ClusterAvailableReason},
	} {
		cond.Status = metav1.ConditionTrue
		cond.ObservedGeneration = cluster.Generation
		cond.LastTransitionTime = now
		apimeta.SetStatusCondition(&cluster.Status.Conditions, cond)
	}
}

// endpointHostPort splits https://host:port.
func endpointHostPort(endpoint string) (string, int32, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", 0, fmt.Errorf("parsing endpoint %q: %w", endpoint, err)
	}
	port, err := strconv.ParseInt(u.Port(), 10, 32)
	if err != nil || u.Hostname() == "" {
		return "", 0, fmt.Errorf("endpoint %q has no host:port", endpoint)
	}
	return u.Hostname(), int32(port), nil
}
