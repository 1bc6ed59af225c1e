package dataplane

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-io/berth/bench/netlab"
	"github.com/berth-io/berth/hack/clustertools"
)

// Addresses of the management cluster's control plane (lab-internal).
const (
	controlPlaneIP     = "10.201.2.10"
	apiserverPort      = 6443
	serviceClusterCIDR = "10.201.128.0/24" // virtual service IPs; never routed
	etcdClientURL      = "http://127.0.0.1:2379"
	etcdPeerURL        = "http://127.0.0.1:2380"
)

// kubeControlPlane is a real etcd and kube-apiserver in a namespace of its
// own on the management cluster's network, from the `make tools` cache.
type kubeControlPlane struct {
	lab       *netlab.Lab
	ns        *netlab.NetNS
	bins      clustertools.Binaries
	dir       string
	etcd      *netlab.Process
	apiserver *netlab.Process
	starts    int
	token     string // the bench's bearer token (admin under AlwaysAllow)
	// readyTimeout bounds each start.
	readyTimeout time.Duration
}

// newKubeControlPlane adds the namespace mgmt-cp to the management cluster's
// network and prepares the data directory and the service-account key.
func newKubeControlPlane(ctx context.Context, lab *netlab.Lab, topo *Topology, bins clustertools.Binaries, readyTimeout time.Duration) (*kubeControlPlane, error) {
	var mgmt *remote
	for _, r := range topo.remotes {
		if r.plan.role == "mgmt" {
			mgmt = r
		}
	}
	if mgmt == nil {
		return nil, errors.New("the topology has no management cluster")
	}
	ns, err := lab.Namespace(ctx, "mgmt-cp")
	if err != nil {
		return nil, err
	}
	if err := lab.Attach(ctx, ns, "eth0", controlPlaneIP+"/24", mgmt.network, "br0", "p-cp"); err != nil {
		return nil, err
	}
	cp := &kubeControlPlane{lab: lab, ns: ns, bins: bins, dir: filepath.Join(lab.WorkDir, "mgmt-cp"), readyTimeout: readyTimeout}
	if err := os.MkdirAll(filepath.Join(cp.dir, "certs"), 0o700); err != nil {
		return nil, fmt.Errorf("creating the control plane's directory: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating the service-account key: %w", err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(cp.saKey(), pemKey, 0o600); err != nil {
		return nil, fmt.Errorf("writing the service-account key: %w", err)
	}
	// AlwaysAllow turns anonymous requests off, so the probe authenticates
	// with a static token.
	cp.token = rand.Text()
	if err := os.WriteFile(cp.tokenFile(), []byte(cp.token+`,berth-bench,berth-bench,"system:masters"`+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing the token file: %w", err)
	}
	return cp, nil
}

func (cp *kubeControlPlane) saKey() string     { return filepath.Join(cp.dir, "sa.key") }
func (cp *kubeControlPlane) tokenFile() string { return filepath.Join(cp.dir, "tokens.csv") }

// servingCert is the certificate kube-apiserver generates into its cert
// directory on first start (leaf and its self-signed CA); restarts reuse it.
func (cp *kubeControlPlane) servingCert() string {
	return filepath.Join(cp.dir, "certs", "apiserver.crt")
}

// Start runs etcd, waits for it, then runs kube-apiserver and waits until
// /readyz answers ok. The data directory survives restarts. The apiserver
// authorizes everything (a bench token is its only user) and runs without
// priority and fairness, which only shortens its start on a small machine.
func (cp *kubeControlPlane) Start(ctx context.Context) error {
	cp.starts++
	suffix := ""
	if cp.starts > 1 {
		suffix = fmt.Sprintf("-%d", cp.starts)
	}
	etcd, err := cp.lab.Start(cp.ns, netlab.ProcessSpec{Name: "mgmt-etcd" + suffix, Argv: []string{cp.bins.Etcd,
		"--name", "mgmt", "--data-dir", filepath.Join(cp.dir, "etcd"),
		"--listen-client-urls", etcdClientURL, "--advertise-client-urls", etcdClientURL,
		"--listen-peer-urls", etcdPeerURL, "--initial-advertise-peer-urls", etcdPeerURL,
		"--initial-cluster", "mgmt=" + etcdPeerURL, "--unsafe-no-fsync",
	}})
	if err != nil {
		return err
	}
	cp.etcd = etcd
	etcdHealth := newHTTPTarget(cp.ns.DialContext, etcdClientURL+"/health", "", "")
	if err := etcd.WaitReady(ctx, cp.readyTimeout, etcdHealth.Request); err != nil {
		return err
	}
	apiserver, err := cp.lab.Start(cp.ns, netlab.ProcessSpec{Name: "mgmt-kube-apiserver" + suffix, Argv: []string{cp.bins.KubeAPIServer,
		"--etcd-servers", etcdClientURL,
		"--bind-address", controlPlaneIP, "--advertise-address", controlPlaneIP,
		"--secure-port", fmt.Sprint(apiserverPort),
		"--cert-dir", filepath.Join(cp.dir, "certs"),
		"--service-account-issuer", cp.URL(),
		"--service-account-key-file", cp.saKey(), "--service-account-signing-key-file", cp.saKey(),
		"--service-cluster-ip-range", serviceClusterCIDR,
		"--authorization-mode", "AlwaysAllow", "--token-auth-file", cp.tokenFile(),
		"--enable-priority-and-fairness=false",
	}})
	if err != nil {
		return err
	}
	cp.apiserver = apiserver
	return apiserver.WaitReady(ctx, cp.readyTimeout, cp.Probe().Request)
}

// Kill SIGKILLs kube-apiserver and etcd, as a crash of the control-plane
// node would.
func (cp *kubeControlPlane) Kill() error {
	var errs []error
	for _, p := range []*netlab.Process{cp.apiserver, cp.etcd} {
		if p != nil {
			errs = append(errs, p.Kill())
		}
	}
	return errors.Join(errs...)
}

// URL is the apiserver's address on the management cluster's network.
func (cp *kubeControlPlane) URL() string {
	return fmt.Sprintf("https://%s:%d", controlPlaneIP, apiserverPort)
}

// Probe returns a target that GETs /readyz from inside the control plane's
// namespace, trusting the apiserver's generated serving certificate.
func (cp *kubeControlPlane) Probe() target {
	return newHTTPTarget(cp.ns.DialContext, cp.URL()+"/readyz", cp.servingCert(), cp.token)
}

// httpTarget GETs a URL from inside a namespace; any status but 200 fails.
// Requests come from one goroutine at a time.
type httpTarget struct {
	url       string
	caFile    string // HTTPS: the CA bundle to trust, read on first use
	token     string // bearer token, when set
	transport *http.Transport
	client    *http.Client
}

var _ target = &httpTarget{}

// newHTTPTarget dials through dial and uses no proxy.
func newHTTPTarget(dial DialFunc, url, caFile, token string) *httpTarget {
	tr := &http.Transport{DialContext: dial}
	return &httpTarget{url: url, caFile: caFile, token: token, transport: tr, client: &http.Client{Transport: tr}}
}

func (t *httpTarget) Request(ctx context.Context) error {
	// kube-apiserver writes its certificate on first start, so it is read
	// once it exists.
	if t.caFile != "" && t.transport.TLSClientConfig == nil {
		pemCerts, err := os.ReadFile(t.caFile)
		if err != nil {
			return fmt.Errorf("reading the apiserver's certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemCerts) {
			return fmt.Errorf("no certificates in %s", t.caFile)
		}
		t.transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return err
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", t.url, resp.Status, body)
	}
	return nil
}

// Abort is a no-op: the request's context carries the timeout.
func (t *httpTarget) Abort() {}

// Reset drops idle connections, so the next request dials afresh.
func (t *httpTarget) Reset() { t.transport.CloseIdleConnections() }
