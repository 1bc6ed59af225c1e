package agent

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/transport"
)

// DefaultTokenReload is how often the hub token is re-read from the
// hub-kubeconfig file.
const DefaultTokenReload = time.Minute

// LoadHubConfig reads the hub-kubeconfig file the hub wrote for this spoke.
// The hub refreshes the token inside it long before it expires, so when the
// file holds an inline token the returned config re-reads it from the file
// every reload (default DefaultTokenReload), and at once after the hub
// answers 401 Unauthorized.
func LoadHubConfig(path string, reload time.Duration) (*rest.Config, error) {
	if path == "" {
		return nil, errors.New("--hub-kubeconfig is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("--hub-kubeconfig %s: %w", path, err)
	}
	if cfg.BearerToken == "" || cfg.BearerTokenFile != "" {
		// Certificates, exec plugins and token files rotate by themselves.
		return cfg, nil
	}
	if reload <= 0 {
		reload = DefaultTokenReload
	}
	src := transport.NewCachedTokenSource(&kubeconfigToken{path: path, reload: reload})
	cfg.BearerToken = ""
	cfg.WrapTransport = transport.ResettableTokenSourceWrapTransport(src)
	return cfg, nil
}

// kubeconfigToken reads the bearer token of a kubeconfig file's current
// context.
type kubeconfigToken struct {
	path   string
	reload time.Duration
}

// Token implements oauth2.TokenSource.
func (k *kubeconfigToken) Token() (*oauth2.Token, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", k.path)
	if err != nil {
		return nil, fmt.Errorf("re-reading --hub-kubeconfig %s: %w", k.path, err)
	}
	if cfg.BearerToken == "" {
		return nil, fmt.Errorf("re-reading --hub-kubeconfig %s: the current context has no token", k.path)
	}
	return &oauth2.Token{AccessToken: cfg.BearerToken, Expiry: time.Now().Add(k.reload)}, nil
}

// LoadMemberConfig returns the member cluster's config: from the kubeconfig
// file at path, or the in-cluster config when path is empty.
func LoadMemberConfig(path string) (*rest.Config, error) {
	if path == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig is empty and the in-cluster config is unavailable: %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}
