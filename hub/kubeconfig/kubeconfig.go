package kubeconfig

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// CAPISecretKey is the key of a Cluster API kubeconfig Secret that holds the
// kubeconfig.
const CAPISecretKey = "value"

// SecretKey is the key of berth's `hub-kubeconfig` Secrets.
const SecretKey = "kubeconfig"

// CAPISecretName is the name of the kubeconfig Secret Cluster API writes for
// a Cluster.
func CAPISecretName(clusterName string) string {
	return clusterName + "-kubeconfig"
}

// ForToken returns a kubeconfig for server that trusts caData (the system
// roots when empty) and authenticates with token. name names the cluster,
// user and context entries.
func ForToken(name, server string, caData []byte, token string) ([]byte, error) {
	if server == "" {
		return nil, errors.New("server: must not be empty")
	}
	if token == "" {
		return nil, errors.New("token: must not be empty")
	}
	if name == "" {
		name = "hub"
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("writing kubeconfig: %w", err)
	}
	return out, nil
}

// RESTConfig parses a kubeconfig and returns the rest.Config of its current
// context. The error says which part is missing or malformed.
func RESTConfig(data []byte) (*rest.Config, error) {
	if len(data) == 0 {
		return nil, errors.New("kubeconfig is empty")
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig does not parse: %w", err)
	}
	if cfg.CurrentContext == "" {
		return nil, errors.New("kubeconfig has no current-context")
	}
	kctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("kubeconfig current-context %q is not defined", cfg.CurrentContext)
	}
	cluster, ok := cfg.Clusters[kctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("kubeconfig context %q names cluster %q, which is not defined", cfg.CurrentContext, kctx.Cluster)
	}
	if cluster.Server == "" {
		return nil, fmt.Errorf("kubeconfig cluster %q has no server", kctx.Cluster)
	}
	rc, err := clientcmd.NewDefaultClientConfig(*cfg, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig is not usable: %w", err)
	}
	return rc, nil
}

// FromCAPISecret returns the rest.Config in a Cluster API kubeconfig Secret.
func FromCAPISecret(s *corev1.Secret) (*rest.Config, error) {
	data, ok := s.Data[CAPISecretKey]
	if !ok {
		return nil, fmt.Errorf("secret %s/%s has no key %q", s.Namespace, s.Name, CAPISecretKey)
	}
	rc, err := RESTConfig(data)
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s key %q: %w", s.Namespace, s.Name, CAPISecretKey, err)
	}
	return rc, nil
}
