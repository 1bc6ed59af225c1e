package work_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/e2e/framework"
	"github.com/berth-io/berth/e2e/framework/operators"
	"github.com/berth-io/berth/spoke/work"
)

// One apiserver plays both the hub (namespace berth-member-w1) and the
// member cluster: the controllers reach them through separate clients, as
// in production.
const (
	member   = "w1"
	hubNS    = "berth-member-w1"
	systemNS = "berth-system"
	// testResync is short so that a test sees several periodic resyncs.
	testResync = 2 * time.Second
)

var (
	env       *framework.Envtest
	k8sClient client.Client
	// hubRequests and memberRequests count every request the suite's
	// controllers send to the hub and the member.
	hubRequests, memberRequests = &counter{}, &counter{}
	// caps are the member's capabilities; tests running operator flavours
	// set them before creating their work (a work's flavour is pinned once
	// its namespace exists).
	caps atomic.Pointer[fleetv1alpha1.Capabilities]
)

// allOperators reports every operator installed.
var allOperators = fleetv1alpha1.Capabilities{Operators: []fleetv1alpha1.Operator{
	fleetv1alpha1.OperatorRabbitMQ, fleetv1alpha1.OperatorSpotahomeRedis, fleetv1alpha1.OperatorZalandoPostgres,
}}

func TestMain(m *testing.M) {
	caps.Store(&fleetv1alpha1.Capabilities{})
	os.Exit(framework.RunSuite(m, framework.Suite{
		NewManager: func(e *framework.Envtest) (ctrl.Manager, error) {
			// The hub side sees only the member's hub namespace.
			return ctrl.NewManager(hubRequests.wrap(e.Config), ctrl.Options{
				Scheme:  e.Scheme,
				Metrics: metricsserver.Options{BindAddress: "0"},
				Cache:   cache.Options{DefaultNamespaces: map[string]cache.Config{hubNS: {}}},
			})
		},
		Setup: setup,
	}))
}

func setup(ctx context.Context, e *framework.Envtest, mgr ctrl.Manager) error {
	env, k8sClient = e, e.Client
	if _, err := envtest.InstallCRDs(e.Config, envtest.CRDInstallOptions{Paths: []string{operators.CRDDir()}, ErrorIfPathMissing: true}); err != nil {
		return fmt.Errorf("installing the operator CRDs: %w", err)
	}
	// The operators' emulators act like the real ones on the flavours'
	// resources: children, copied labels, ownerReferences, Secrets and what
	// they delete.
	if err := operators.Install(ctx, k8sClient); err != nil {
		return fmt.Errorf("installing the operators: %w", err)
	}
	stop := operators.Start(ctx, e.Config, operators.Options{
		SpotahomeResync: 5 * time.Second, ZalandoCheckInterval: 500 * time.Millisecond, RabbitMQRequeue: 2 * time.Second,
	})
	go func() {
		<-ctx.Done()
		_ = stop()
	}()
	if err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: hubNS}}); err != nil {
		return err
	}
	return addSpoke(ctx, mgr, hubNS, memberRequests.wrap(e.Config))
}

// addSpoke adds the ServiceWork controllers for hub namespace ns to mgr,
// with a fresh member cluster (and so an empty cache) reached through
// memberCfg.
func addSpoke(ctx context.Context, mgr ctrl.Manager, ns string, memberCfg *rest.Config) error {
	cacheOpts, err := work.MemberCacheOptions()
	if err != nil {
		return err
	}
	memberCluster, err := cluster.New(memberCfg, func(o *cluster.Options) {
		o.Scheme = env.Scheme
		o.Cache = cacheOpts
	})
	if err != nil {
		return err
	}
	if err := mgr.Add(memberCluster); err != nil {
		return err
	}
	return work.Setup(ctx, mgr, work.Options{
		MemberCluster: memberCluster,
		MemberName:    member,
		HubNamespace:  ns,
		Capabilities:  func() fleetv1alpha1.Capabilities { return *caps.Load() },
		OperatorNamespaces: func() map[fleetv1alpha1.Operator][]string {
			out := map[fleetv1alpha1.Operator][]string{}
			for _, op := range operators.All() {
				in, _ := operators.InstallationOf(op)
				out[op] = []string{in.Namespace}
			}
			return out
		},
		MonitoringNamespaces: []string{"monitoring"},
		NodeAddress:          "10.0.0.1",
		Resync:               testResync,
	})
}

// counter counts the requests sent through a rest.Config, by method and
// resource.
type counter struct {
	mu   sync.Mutex
	reqs map[string]int
}

func (c *counter) wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			key := req.Method + " " + resourceOf(req.URL.Path)
			if req.URL.Query().Get("watch") == "true" {
				key = "WATCH " + resourceOf(req.URL.Path)
			}
			resp, err := rt.RoundTrip(req)
			if err == nil && resp.StatusCode >= 400 && resp.StatusCode != http.StatusNotFound {
				key += " " + strconv.Itoa(resp.StatusCode)
			}
			c.mu.Lock()
			if c.reqs == nil {
				c.reqs = map[string]int{}
			}
			c.reqs[key]++
			c.mu.Unlock()
			return resp, err
		})
	})
	return cfg
}

// resourceOf reduces a request path to its resource (and subresource):
// /api/v1/namespaces/x/secrets/y becomes secrets,
// /apis/fleet.berth.io/v1alpha1/namespaces/x/serviceworks/y/status becomes
// serviceworks/status.
func resourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) > 0 && parts[0] == "apis" && len(parts) > 2 {
		parts = parts[3:]
	} else if len(parts) > 1 {
		parts = parts[2:]
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) > 2 {
		parts = parts[2:]
	}
	switch len(parts) {
	case 0:
		return "?"
	case 3:
		return parts[0] + "/" + parts[2]
	default:
		return parts[0]
	}
}

// snapshot returns a copy of the counts.
func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.reqs))
	for k, v := range c.reqs {
		out[k] = v
	}
	return out
}

// diff returns the counts since before, without zeroes.
func diff(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// writes sums the mutating requests of counts.
func writes(counts map[string]int) int {
	n := 0
	for k, v := range counts {
		method, _, _ := strings.Cut(k, " ")
		if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch || method == http.MethodDelete {
			n += v
		}
	}
	return n
}

// format prints counts sorted by key.
func format(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, counts[k])
	}
	return strings.TrimSpace(b.String())
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
