package agent

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// tokenServer answers 200 to the current token and 401 to any other, and
// records the tokens it saw.
type tokenServer struct {
	*httptest.Server
	mu    sync.Mutex
	valid string
	seen  []string
}

func newTokenServer(t *testing.T, valid string) *tokenServer {
	s := &tokenServer{valid: valid}
	// TLS: kubeconfig loading never sends a token over plain HTTP.
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		got := r.Header.Get("Authorization")
		s.seen = append(s.seen, got)
		if got != "Bearer "+s.valid {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *tokenServer) rotate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.valid = token
}

func writeTokenKubeconfig(t *testing.T, path string, s *tokenServer, token string) {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	cfg.Clusters["hub"] = &clientcmdapi.Cluster{Server: s.URL, CertificateAuthorityData: ca}
	cfg.AuthInfos["spoke"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["hub"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "spoke"}
	cfg.CurrentContext = "hub"
	must(t, clientcmd.WriteToFile(*cfg, path+".tmp"))
	must(t, os.Rename(path+".tmp", path))
}

func get(t *testing.T, cfg *rest.Config, url string) int {
	t.Helper()
	c, err := rest.HTTPClientFor(cfg)
	must(t, err)
	resp, err := c.Get(url)
	must(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestLoadHubConfigReloadsTheTokenPeriodically(t *testing.T) {
	g := NewWithT(t)
	s := newTokenServer(t, "first")
	path := filepath.Join(t.TempDir(), "kubeconfig")
	writeTokenKubeconfig(t, path, s, "first")
	cfg, err := LoadHubConfig(path, 200*time.Millisecond)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cfg.BearerToken).To(BeEmpty(), "the token comes from the file, not the config")
	g.Expect(get(t, cfg, s.URL)).To(Equal(http.StatusOK))

	writeTokenKubeconfig(t, path, s, "second")
	s.rotate("second")
	g.Eventually(func() int { return get(t, cfg, s.URL) }, 10*time.Second, 50*time.Millisecond).Should(Equal(http.StatusOK))
	g.Expect(s.seen[len(s.seen)-1]).To(Equal("Bearer second"))
}

func TestLoadHubConfigRereadsTheTokenAfterUnauthorized(t *testing.T) {
	g := NewWithT(t)
	s := newTokenServer(t, "first")
	path := filepath.Join(t.TempDir(), "kubeconfig")
	writeTokenKubeconfig(t, path, s, "first")
	cfg, err := LoadHubConfig(path, time.Hour)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(get(t, cfg, s.URL)).To(Equal(http.StatusOK))

	writeTokenKubeconfig(t, path, s, "second")
	s.rotate("second")
	g.Expect(get(t, cfg, s.URL)).To(Equal(http.StatusUnauthorized), "the cached token is stale")
	g.Expect(get(t, cfg, s.URL)).To(Equal(http.StatusOK), "the 401 made the client re-read the file")
	g.Expect(s.seen).To(Equal([]string{"Bearer first", "Bearer first", "Bearer second"}))
}

func TestLoadHubConfigErrors(t *testing.T) {
	dir := t.TempDir()
	certOnly := filepath.Join(dir, "cert")
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["hub"] = &clientcmdapi.Cluster{Server: "https://hub.example.com"}
	cfg.AuthInfos["spoke"] = &clientcmdapi.AuthInfo{Username: "u", Password: "p"}
	cfg.Contexts["hub"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "spoke"}
	cfg.CurrentContext = "hub"
	must(t, clientcmd.WriteToFile(*cfg, certOnly))
	garbage := filepath.Join(dir, "garbage")
	must(t, os.WriteFile(garbage, []byte("{{{ not yaml"), 0o600))

	testCases := []struct {
		name    string
		path    string
		wantErr string
	}{
		{name: "empty path", path: "", wantErr: "--hub-kubeconfig is required"},
		{name: "missing file", path: filepath.Join(dir, "nope"), wantErr: "--hub-kubeconfig " + filepath.Join(dir, "nope")},
		{name: "not a kubeconfig", path: garbage, wantErr: "--hub-kubeconfig " + garbage},
		{name: "no token is used as is", path: certOnly},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cfg, err := LoadHubConfig(tc.path, 0)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cfg.WrapTransport).To(BeNil())
			g.Expect(cfg.Username).To(Equal("u"))
		})
	}
}
