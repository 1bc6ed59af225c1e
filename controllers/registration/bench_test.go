package registration

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/controllers/membercluster"
	"github.com/berth-io/berth/hub/kubeconfig"
)

// benchMembers is how many Clusters register at once per iteration.
const benchMembers = 20

// BenchmarkRegistrationLatency measures, for 20 CAPI Clusters whose control
// planes become initialized at the same moment, the time from writing
// ControlPlaneInitialized to seeing their MemberCluster Available=True.
//
// The hub (registration + membercluster controllers, with spoke
// installation into the "member cluster", which is the same envtest
// apiserver) is real. The spoke is simulated: as soon as a member's
// hub-kubeconfig Secret appears, the benchmark builds a client from it (the
// real bound token) and creates the spoke's Lease, as berth-spoke does on
// start. A real spoke adds its own start-up time (pod scheduling, image
// pull) on top of these numbers.
func BenchmarkRegistrationLatency(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	mk := memberKubeconfig(b)

	// samples: initialized -> Available; credSamples: initialized -> the
	// spoke's credentials exist (the hub's part before the spoke starts).
	var samples, credSamples []time.Duration
	for iter := 0; iter < b.N; iter++ {
		b.StopTimer()
		ns := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano()%1_000_000, iter)
		ensureNamespace(b, ns)
		clusters := make([]*clusterv1.Cluster, benchMembers)
		for i := range clusters {
			c := newCluster(ns, fmt.Sprintf("c%02d", i)).create(b)
			createKubeconfigSecret(b, c, map[string][]byte{kubeconfig.CAPISecretKey: mk})
			clusters[i] = c
		}
		want := map[string]bool{}
		for _, c := range clusters {
			want[ns+"-"+c.Name] = true
		}

		credentialsAt := map[string]time.Time{}
		spokeDone := simulateSpokes(ctx, b, wc, want, credentialsAt)
		availableAt := watchAvailable(ctx, b, wc, want)

		b.StartTimer()
		start := map[string]time.Time{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range clusters {
			wg.Go(func() {
				t0 := time.Now()
				if err := markInitialized(c); err != nil {
					b.Error(err)
				}
				mu.Lock()
				start[ns+"-"+c.Name] = t0
				mu.Unlock()
			})
		}
		wg.Wait()
		got := <-availableAt
		b.StopTimer()
		<-spokeDone
		for name, t1 := range got {
			samples = append(samples, t1.Sub(start[name]))
			credSamples = append(credSamples, credentialsAt[name].Sub(start[name]))
		}
		for _, c := range clusters {
			_ = k8s.Delete(ctx, c)
		}
		for name := range want {
			for memberExists(name) {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	slices.Sort(samples)
	p50, p99 := percentile(samples, 0.50), percentile(samples, 0.99)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	slices.Sort(credSamples)
	b.ReportMetric(float64(percentile(credSamples, 0.5).Microseconds())/1000, "credentials-p50-ms")
	b.Logf("Registration latency over %d members (%d at once): p50 %s, p99 %s, min %s, max %s; credentials issued p50 %s, p99 %s",
		len(samples), benchMembers, p50, p99, samples[0], samples[len(samples)-1],
		percentile(credSamples, 0.5), percentile(credSamples, 0.99))
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// simulateSpokes creates each wanted member's Lease with that member's own
// hub credentials as soon as they exist.
func simulateSpokes(ctx context.Context, b *testing.B, wc client.WithWatch, want map[string]bool, seen map[string]time.Time) <-chan struct{} {
	w, err := wc.Watch(ctx, &corev1.SecretList{}, client.HasLabels{fleetv1alpha1.LabelMember})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer w.Stop()
		var wg sync.WaitGroup
		started := map[string]bool{}
		for ev := range w.ResultChan() {
			s, ok := ev.Object.(*corev1.Secret)
			if !ok || ev.Type != watch.Added || s.Name != membercluster.HubKubeconfigSecret {
				continue
			}
			member := membercluster.MemberForNamespace(s.Namespace)
			if !want[member] || started[member] {
				continue
			}
			started[member] = true
			seen[member] = time.Now()
			data := s.Data[kubeconfig.SecretKey]
			wg.Go(func() {
				cfg, err := kubeconfig.RESTConfig(data)
				if err != nil {
					b.Error(err)
					return
				}
				spoke, err := client.New(cfg, client.Options{Scheme: env.Scheme})
				if err != nil {
					b.Error(err)
					return
				}
				if err := spoke.Create(ctx, &coordinationv1.Lease{
					ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: membercluster.LeaseName},
					Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(member), LeaseDurationSeconds: ptr.To(int32(10)),
						RenewTime: &metav1.MicroTime{Time: time.Now()}},
				}); err != nil {
					b.Error(err)
				}
			})
			if len(started) == len(want) {
				break
			}
		}
		wg.Wait()
	}()
	return done
}

// watchAvailable reports when each wanted member first shows Available=True.
func watchAvailable(ctx context.Context, b *testing.B, wc client.WithWatch, want map[string]bool) <-chan map[string]time.Time {
	w, err := wc.Watch(ctx, &fleetv1alpha1.MemberClusterList{})
	if err != nil {
		b.Fatal(err)
	}
	out := make(chan map[string]time.Time, 1)
	go func() {
		defer w.Stop()
		got := map[string]time.Time{}
		timeout := time.After(5 * time.Minute)
		for len(got) < len(want) {
			select {
			case ev := <-w.ResultChan():
				m, ok := ev.Object.(*fleetv1alpha1.MemberCluster)
				if !ok || !want[m.Name] {
					continue
				}
				if _, seen := got[m.Name]; !seen && meta.IsStatusConditionTrue(m.Status.Conditions, fleetv1alpha1.ConditionAvailable) {
					got[m.Name] = time.Now()
				}
			case <-timeout:
				b.Errorf("only %d of %d members became Available", len(got), len(want))
				out <- got
				return
			}
		}
		out <- got
	}()
	return out
}
