package controlplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/bench/results"
	"github.com/berth-io/berth/e2e/framework"
)

// serviceNamespace holds the bench's ManagedServices on the hub.
const serviceNamespace = "bench"

// createWorkers is how many objects the bench creates at once.
const createWorkers = 16

// sizeResult is what one fleet size measured.
type sizeResult struct {
	registration, propagated, ready results.Summary
	hub                             results.HubMemory
}

// runSize measures one fleet size on a fresh apiserver and hub.
func runSize(ctx context.Context, n int, opts Options) (*sizeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	start := time.Now()
	logf := func(format string, args ...any) {
		_, _ = fmt.Fprintf(opts.Progress, "[%4d members %6.1fs] %s\n", n, time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}

	logf("starting kube-apiserver and etcd")
	env, err := framework.StartEnvtest()
	if err != nil {
		return nil, err
	}
	defer func() { _ = env.Stop() }()
	// The cache and the simulated spokes end before the apiserver does.
	ctx, stopClients := context.WithCancel(ctx)
	defer stopClients()
	hub, err := startHub(ctx, env, opts.HubBinary, opts.WorkDir, n, opts.HubKubeAPIQPS)
	if err != nil {
		return nil, err
	}
	defer hub.Stop()
	res := &sizeResult{hub: results.HubMemory{Members: n, Services: opts.Services}}
	if res.hub.IdleRSSBytes, _, err = hub.memory(); err != nil {
		return nil, err
	}
	logf("berth-hub ready (pid %d, RSS %.0f MiB, log %s)", hub.Pid(), mib(res.hub.IdleRSSBytes), hub.Log)

	c, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme})
	if err != nil {
		return nil, err
	}
	memberSeen := newSeen(func(o client.Object) bool {
		m := o.(*fleetv1alpha1.MemberCluster)
		return meta.IsStatusConditionTrue(m.Status.Conditions, fleetv1alpha1.ConditionAvailable) && len(m.Status.NodePools) > 0
	})
	propagatedSeen := newSeen(func(o client.Object) bool {
		return meta.IsStatusConditionTrue(o.(*fleetv1alpha1.ManagedService).Status.Conditions, fleetv1alpha1.ConditionPropagated)
	})
	readySeen := newSeen(func(o client.Object) bool {
		return meta.IsStatusConditionTrue(o.(*fleetv1alpha1.ManagedService).Status.Conditions, fleetv1alpha1.ConditionReady)
	})
	if err := memberSeen.watch(ctx, c, &fleetv1alpha1.MemberCluster{}); err != nil {
		return nil, err
	}
	for _, s := range []*seen{propagatedSeen, readySeen} {
		if err := s.watch(ctx, c, &fleetv1alpha1.ManagedService{}); err != nil {
			return nil, err
		}
	}
	sims, err := newSimFleet(ctx, c, env.Client.RESTMapper(), opts.LeaseDuration)
	if err != nil {
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, errors.New("the bench's cache did not sync")
	}

	// Registration.
	members := memberClusters(n)
	t0, err := createAll(ctx, env.Client, members)
	if err != nil {
		return nil, err
	}
	logf("created %d MemberClusters; waiting until each is Available with its inventory", n)
	if err := waitAll(ctx, memberSeen, t0, sims, logf, "members Available"); err != nil {
		return nil, err
	}
	res.registration = memberSeen.summary(t0)
	if res.hub.RegisteredRSSBytes, _, err = hub.memory(); err != nil {
		return nil, err
	}
	creds := sims.credentials.summary(t0)
	if rec, err := hub.reconciles(ctx); err == nil {
		logf("hub reconciles so far: %v", rec)
	}
	logf("registration p50 %s p99 %s (credentials issued p50 %s p99 %s); hub RSS %.0f MiB",
		us(res.registration.P50US), us(res.registration.P99US), us(creds.P50US), us(creds.P99US), mib(res.hub.RegisteredRSSBytes))

	// Propagation.
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: serviceNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	services := managedServices(opts.Services, members)
	t1, err := createAll(ctx, env.Client, services)
	if err != nil {
		return nil, err
	}
	logf("created %d ManagedServices; waiting until each is Ready", len(services))
	if err := waitAll(ctx, readySeen, t1, sims, logf, "services Ready"); err != nil {
		return nil, err
	}
	res.propagated = propagatedSeen.summary(t1)
	res.ready = readySeen.summary(t1)
	if res.hub.RSSBytes, res.hub.PeakRSSBytes, err = hub.memory(); err != nil {
		return nil, err
	}
	if res.hub.CPUSeconds, err = procCPUSeconds(hub.Pid()); err != nil {
		return nil, err
	}
	if res.hub.Reconciles, err = hub.reconciles(ctx); err != nil {
		return nil, err
	}
	logf("propagated p50 %s p99 %s; ready p50 %s p99 %s; hub RSS %.0f MiB (peak %.0f MiB), %.1f CPU s",
		us(res.propagated.P50US), us(res.propagated.P99US), us(res.ready.P50US), us(res.ready.P99US),
		mib(res.hub.RSSBytes), mib(res.hub.PeakRSSBytes), res.hub.CPUSeconds)
	if err := sims.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// memberClusters are n accepted members: the first is the Management
// member, every tenth (and at least one) a Services member, the rest
// Workload members.
func memberClusters(n int) []client.Object {
	out := make([]client.Object, n)
	for i := range n {
		role := fleetv1alpha1.RoleWorkload
		switch {
		case i == 0:
			role = fleetv1alpha1.RoleManagement
		case i%10 == 1:
			role = fleetv1alpha1.RoleServices
		}
		out[i] = &fleetv1alpha1.MemberCluster{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("m-%04d", i)},
			Spec:       fleetv1alpha1.MemberClusterSpec{Role: role, Accepted: true},
		}
	}
	return out
}

// managedServices are s services with the strategies and engines in turn,
// their consumers spread over the Workload members.
func managedServices(s int, members []client.Object) []client.Object {
	var workload []string
	for _, o := range members {
		if o.(*fleetv1alpha1.MemberCluster).Spec.Role == fleetv1alpha1.RoleWorkload {
			workload = append(workload, o.GetName())
		}
	}
	strategies := []fleetv1alpha1.Strategy{fleetv1alpha1.StrategyWorkload, fleetv1alpha1.StrategyManagement, fleetv1alpha1.StrategyDedicated}
	engines := []fleetv1alpha1.Engine{fleetv1alpha1.EnginePostgreSQL, fleetv1alpha1.EngineRedis, fleetv1alpha1.EngineRabbitMQ}
	out := make([]client.Object, s)
	for i := range s {
		engine := engines[i%len(engines)]
		versions := fleetv1alpha1.SupportedVersions[engine]
		out[i] = &fleetv1alpha1.ManagedService{
			ObjectMeta: metav1.ObjectMeta{Namespace: serviceNamespace, Name: fmt.Sprintf("svc-%04d", i)},
			Spec: fleetv1alpha1.ManagedServiceSpec{
				Engine:   engine,
				Version:  versions[len(versions)-1],
				Replicas: 1,
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
				}},
				Storage:   fleetv1alpha1.StorageSpec{Size: resource.MustParse("1Gi")},
				Consumer:  fleetv1alpha1.ConsumerSpec{Cluster: workload[i%len(workload)], Namespaces: []string{"app"}},
				Placement: fleetv1alpha1.ServicePlacement{Strategy: strategies[(i/len(engines))%len(strategies)]},
			},
		}
	}
	return out
}

// createAll creates objs with a few workers and returns when each create
// was sent, by name.
func createAll(ctx context.Context, c client.Client, objs []client.Object) (map[string]time.Time, error) {
	t0 := make(map[string]time.Time, len(objs))
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan client.Object)
	for range createWorkers {
		wg.Go(func() {
			for o := range next {
				t := time.Now()
				err := c.Create(ctx, o)
				mu.Lock()
				t0[o.GetName()] = t
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("creating %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
				}
				mu.Unlock()
			}
		})
	}
	for _, o := range objs {
		next <- o
	}
	close(next)
	wg.Wait()
	return t0, firstErr
}

// seen records when each object first satisfied a condition, as the bench's
// watch saw it.
type seen struct {
	cond func(client.Object) bool
	mu   sync.Mutex
	at   map[string]time.Time
}

func newSeen(cond func(client.Object) bool) *seen {
	return &seen{cond: cond, at: map[string]time.Time{}}
}

func (s *seen) watch(ctx context.Context, c cache.Cache, obj client.Object) error {
	inf, err := c.GetInformer(ctx, obj)
	if err != nil {
		return err
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    s.observe,
		UpdateFunc: func(_, o any) { s.observe(o) },
	})
	return err
}

func (s *seen) observe(o any) {
	obj, ok := o.(client.Object)
	if !ok || !s.cond(obj) {
		return
	}
	s.record(obj.GetName())
}

func (s *seen) record(name string) {
	now := time.Now()
	s.mu.Lock()
	if _, done := s.at[name]; !done {
		s.at[name] = now
	}
	s.mu.Unlock()
}

// missing lists the names of t0 not seen yet.
func (s *seen) missing(t0 map[string]time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name := range t0 {
		if _, ok := s.at[name]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// summary is the latency distribution from t0 to when each was seen; its
// elapsed time runs from the first create to the last sighting.
func (s *seen) summary(t0 map[string]time.Time) results.Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := results.NewHistogram()
	var first, last time.Time
	for name, start := range t0 {
		if first.IsZero() || start.Before(first) {
			first = start
		}
		at, ok := s.at[name]
		if !ok {
			continue
		}
		if at.After(last) {
			last = at
		}
		_ = h.RecordValue(max(1, at.Sub(start).Microseconds()))
	}
	return results.Summarize(h, last.Sub(first), int64(len(t0))-h.TotalCount())
}

// waitAll waits until every name of t0 was seen, printing progress every
// ten seconds, and fails early when a simulated spoke failed.
func waitAll(ctx context.Context, s *seen, t0 map[string]time.Time, sims *simFleet, logf func(string, ...any), what string) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	lastLog := time.Now()
	for {
		missing := s.missing(t0)
		if len(missing) == 0 {
			return nil
		}
		if err := sims.Err(); err != nil {
			return err
		}
		if time.Since(lastLog) >= 10*time.Second {
			logf("%s: %d/%d", what, len(t0)-len(missing), len(t0))
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %d of %d not in time (first: %s): %w", what, len(missing), len(t0), missing[0], ctx.Err())
		case <-tick.C:
		}
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func us(v float64) time.Duration { return time.Duration(v) * time.Microsecond }
