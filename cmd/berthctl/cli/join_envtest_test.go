package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/berth-io/berth/controllers/membercluster"
	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/hub"
	"github.com/berth-io/berth/hub/kubeconfig"
	"github.com/berth-io/berth/hub/spokeinstall"
)

// TestJoinAndAcceptCommands runs `berthctl join token`, `berthctl join` and
// `berthctl accept` against a real hub (hub.Setup on an envtest apiserver).
// The joining cluster is that same apiserver.
func TestJoinAndAcceptCommands(t *testing.T) {
	g := NewWithT(t)
	env, err := framework.StartEnvtest()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	opts := hub.NewOptions()
	opts.RestConfig, opts.MetricsBindAddress, opts.HealthProbeBindAddress = env.Config, "0", "0"
	mgr, err := hub.NewManager(opts)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(hub.Setup(ctx, mgr, opts)).To(Succeed())
	go func() { _ = mgr.Start(ctx) }()

	dir := t.TempDir()
	admin := filepath.Join(dir, "admin.kubeconfig")
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["hub"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: env.Config.CertData, ClientKeyData: env.Config.KeyData}
	cfg.Contexts["admin"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "admin"}
	cfg.CurrentContext = "admin"
	g.Expect(clientcmd.WriteToFile(*cfg, admin)).To(Succeed())

	run := func(args ...string) (string, error) {
		root := NewRootCommand("berthctl")
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(args)
		err := root.ExecuteContext(ctx)
		return out.String(), err
	}

	boot := filepath.Join(dir, "bootstrap.kubeconfig")
	out, err := run("join", "token", "--hub-kubeconfig", admin, "--ttl", "15m", "--output", boot)
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring("expires at"))
	info, err := os.Stat(boot)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))

	spokeKC := filepath.Join(dir, "hub.kubeconfig")
	joined := make(chan error, 1)
	var joinOut string
	go func() {
		var err error
		joinOut, err = run("join", "--hub-kubeconfig", boot, "--name", "edge-cli", "--wait", "60s",
			"--output", spokeKC, "--kubeconfig", admin, "--spoke-image", "registry.invalid/berth-spoke:cli")
		joined <- err
	}()
	g.Eventually(func() error {
		_, err := run("accept", "edge-cli", "--hub-kubeconfig", admin)
		return err
	}, 30*time.Second, 200*time.Millisecond).Should(Succeed())
	g.Eventually(joined, 90*time.Second).Should(Receive(BeNil()))
	g.Expect(joinOut).To(ContainSubstring("Installed berth-spoke"))

	// The written kubeconfig is the spoke's identity on the hub.
	data, err := os.ReadFile(spokeKC)
	g.Expect(err).NotTo(HaveOccurred())
	rc, err := kubeconfig.RESTConfig(data)
	g.Expect(err).NotTo(HaveOccurred())
	spoke, err := client.New(rc, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	review := &authenticationv1.SelfSubjectReview{}
	g.Expect(spoke.Create(ctx, review)).To(Succeed())
	g.Expect(review.Status.UserInfo.Username).To(Equal(membercluster.SpokeUsername("edge-cli")))

	dep := &appsv1.Deployment{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: spokeinstall.Namespace, Name: spokeinstall.Name}, dep)).To(Succeed())
	g.Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.invalid/berth-spoke:cli"))

	out, err = run("accept", "edge-cli", "--hub-kubeconfig", admin)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(ContainSubstring("already accepted"))
	_, err = run("accept", "nobody", "--hub-kubeconfig", admin)
	g.Expect(err).To(MatchError(ContainSubstring("does not exist")))
}
