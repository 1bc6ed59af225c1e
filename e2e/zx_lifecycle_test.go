//go:build e2e

package e2e

// This file installs the operators (their emulators) into every member, so
// every service created after it gets an operator flavour. Go runs the tests
// of a package file by file in name order: it is named to run after the
// tests that expect the built-in flavour (TestQuietFleet among them) and
// before the drain (zz_drain_test.go).

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/spoke/render"
)

// settleAfterDelete is how long the lifecycle test waits after a Retain
// deletion before it looks at what is left, so an operator that deletes
// with its resource (Zalando's defaults) has had time to act.
const settleAfterDelete = 15 * time.Second

type lifecycleCase struct {
	engine  fleetv1alpha1.Engine
	version string
	// operator is the flavour the platform namespace must record once the
	// operators are installed (BuiltIn before).
	operator render.Flavour
}

var lifecycleEngines = []lifecycleCase{
	{fleetv1alpha1.EnginePostgreSQL, "16", render.FlavourZalando},
	{fleetv1alpha1.EngineRedis, "7.2", render.FlavourSpotahome},
	{fleetv1alpha1.EngineRabbitMQ, "3.13", render.FlavourRabbitMQOperator},
}

var lifecycleStrategies = []fleetv1alpha1.Strategy{
	fleetv1alpha1.StrategyWorkload, fleetv1alpha1.StrategyManagement, fleetv1alpha1.StrategyDedicated,
}

// TestLifecycleEveryEngineFlavourStrategy: for every engine, flavour
// (built-in, then the operator with its emulator) and strategy, a service
// is created and becomes Ready, then is deleted under Retain and under
// Delete:
//   - Retain: the volumes and a credentials Secret are still in the
//     provider's platform namespace once the operator had time to act, and
//     the consumer binding is gone;
//   - Delete: nothing berth or the operator made is left: the platform
//     namespace is gone, and so is the consumer binding.
func TestLifecycleEveryEngineFlavourStrategy(t *testing.T) {
	g := setup(t)
	ctx := context.Background()
	for _, operators := range []bool{false, true} {
		phase := "builtin"
		if operators {
			phase = "operator"
			for _, m := range allMembers {
				g.Expect(env.Controls.InstallOperators(ctx, m)).To(Succeed())
			}
			waitOperatorsReported(g)
		}
		start := time.Now()
		var mu sync.Mutex
		var wg sync.WaitGroup
		failures := []string{}
		for i, e := range lifecycleEngines {
			for j, s := range lifecycleStrategies {
				for _, policy := range []fleetv1alpha1.DeletionPolicy{fleetv1alpha1.DeletionPolicyRetain, fleetv1alpha1.DeletionPolicyDelete} {
					consumer := []string{"workload-1", "workload-2"}[(i+j)%2]
					name := fmt.Sprintf("lc-%s-%s-%s-%s", phase[:3], shortEngine(e.engine), shortStrategy(s), shortPolicy(policy))
					ms := service(name, e.engine, e.version, consumer, s, "app")
					ms.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}
					ms.Spec.DeletionPolicy = policy
					want := render.FlavourBuiltIn
					if operators {
						want = e.operator
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer func() {
							if r := recover(); r != nil {
								mu.Lock()
								failures = append(failures, fmt.Sprintf("%s: %v", name, r))
								mu.Unlock()
							}
						}()
						lifecycle(t, ms, want)
					}()
				}
			}
		}
		wg.Wait()
		g.Expect(failures).To(BeEmpty())
		t.Logf("%s phase: 18 services created, Ready, deleted and checked in %s", phase, time.Since(start).Round(time.Second))
	}
}

// lifecycle creates ms, waits for Ready, checks its flavour, deletes it and
// checks what is left. It panics on failure (it runs in a goroutine; the
// caller turns panics into failures).
func lifecycle(t *testing.T, ms *fleetv1alpha1.ManagedService, flavour render.Flavour) {
	g := NewGomega(func(message string, _ ...int) { panic(message) })
	ctx := context.Background()
	g.Expect(env.Hub.Create(ctx, ms)).To(Succeed())
	got := waitReadyG(g, ms)
	provider := got.Status.Placement.Cluster
	pc := env.Members[provider].Client
	nsName := render.PlatformNamespace(fleetv1alpha1.ServiceReference{Namespace: ms.Namespace, Name: ms.Name})
	ns := &corev1.Namespace{}
	g.Expect(pc.Get(ctx, client.ObjectKey{Name: nsName}, ns)).To(Succeed())
	g.Expect(ns.Annotations[render.AnnotationFlavour]).To(Equal(string(flavour)), "flavour of %s", ms.Name)
	consumer := ms.Spec.Consumer.Cluster
	expectBinding(g, consumer, "app", ms.Name)

	// The volumes exist before the deletion (kwok has no storage driver; the
	// e2e provider binds them), so "still there" below means something.
	g.Eventually(func() int { return len(pvcsIn(g, pc, nsName)) }, readyTimeout, poll).Should(BeNumerically(">", 0), "%s has no volume", ms.Name)

	g.Expect(env.Hub.Delete(ctx, ms)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(env.Hub.Get(ctx, client.ObjectKeyFromObject(ms), &fleetv1alpha1.ManagedService{}))
	}, readyTimeout, poll).Should(BeTrue(), "%s was not removed", ms.Name)

	// The binding goes with the service, whatever the policy.
	cc := env.Members[consumer].Client
	g.Eventually(func() bool {
		return apierrors.IsNotFound(cc.Get(ctx, client.ObjectKey{Namespace: "app", Name: ms.Name + "-credentials"}, &corev1.Secret{}))
	}, readyTimeout, poll).Should(BeTrue(), "%s: binding Secret left in the consumer", ms.Name)

	if ms.Spec.DeletionPolicy == fleetv1alpha1.DeletionPolicyDelete {
		g.Eventually(func() bool {
			return apierrors.IsNotFound(pc.Get(ctx, client.ObjectKey{Name: nsName}, &corev1.Namespace{}))
		}, readyTimeout, poll).Should(BeTrue(), "%s: platform namespace %s left on %s", ms.Name, nsName, provider)
		return
	}
	time.Sleep(settleAfterDelete)
	pvcs := pvcsIn(g, pc, nsName)
	g.Expect(pvcs).NotTo(BeEmpty(), "%s: Retain lost the volumes on %s", ms.Name, provider)
	for _, p := range pvcs {
		g.Expect(p.DeletionTimestamp).To(BeNil(), "%s: volume %s is being deleted", ms.Name, p.Name)
	}
	secrets := &corev1.SecretList{}
	g.Expect(pc.List(ctx, secrets, client.InNamespace(nsName))).To(Succeed())
	g.Expect(slices.ContainsFunc(secrets.Items, func(s corev1.Secret) bool {
		_, ok := s.Data["password"]
		return ok && s.DeletionTimestamp == nil
	})).To(BeTrue(), "%s: Retain lost the credentials on %s", ms.Name, provider)
	g.Expect(pc.Get(ctx, client.ObjectKey{Name: nsName}, ns)).To(Succeed())
	g.Expect(ns.DeletionTimestamp).To(BeNil(), "%s: retained platform namespace is being deleted", ms.Name)
}

func pvcsIn(g Gomega, c client.Client, ns string) []corev1.PersistentVolumeClaim {
	list := &corev1.PersistentVolumeClaimList{}
	g.Expect(c.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
	return list.Items
}

// waitReadyG is waitReady for a Gomega that is not bound to a test.
func waitReadyG(g Gomega, ms *fleetv1alpha1.ManagedService) *fleetv1alpha1.ManagedService {
	got := &fleetv1alpha1.ManagedService{}
	g.Eventually(func() error {
		if err := env.Hub.Get(context.Background(), client.ObjectKeyFromObject(ms), got); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(got.Status.Conditions, fleetv1alpha1.ConditionReady) {
			return fmt.Errorf("%s not Ready: cluster %q, conditions %+v", ms.Name, got.Status.Placement.Cluster, got.Status.Conditions)
		}
		return nil
	}, readyTimeout, poll).Should(Succeed())
	return got
}

// waitOperatorsReported waits until every member reports the three
// operators, so the next services get an operator flavour.
func waitOperatorsReported(g Gomega) {
	g.Eventually(func() error {
		for _, m := range allMembers {
			mc := &fleetv1alpha1.MemberCluster{}
			if err := env.Hub.Get(context.Background(), clientKey(m), mc); err != nil {
				return err
			}
			if n := len(mc.Status.Capabilities.Operators); n != 3 {
				return fmt.Errorf("%s reports %d operators", m, n)
			}
		}
		return nil
	}, 2*time.Minute, poll).Should(Succeed())
}

func shortEngine(e fleetv1alpha1.Engine) string {
	return map[fleetv1alpha1.Engine]string{
		fleetv1alpha1.EnginePostgreSQL: "pg", fleetv1alpha1.EngineRedis: "redis", fleetv1alpha1.EngineRabbitMQ: "rmq",
	}[e]
}

func shortStrategy(s fleetv1alpha1.Strategy) string {
	return map[fleetv1alpha1.Strategy]string{
		fleetv1alpha1.StrategyWorkload: "wl", fleetv1alpha1.StrategyManagement: "mg", fleetv1alpha1.StrategyDedicated: "dd",
	}[s]
}

func shortPolicy(p fleetv1alpha1.DeletionPolicy) string {
	if p == fleetv1alpha1.DeletionPolicyDelete {
		return "del"
	}
	return "ret"
}
