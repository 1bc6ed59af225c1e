package framework_test

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/placement/framework"
	ptesting "github.com/berth-io/berth/placement/testing"
)

func metav1LabelSelectorRequirement(key, op string) metav1.LabelSelectorRequirement {
	return metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOperator(op)}
}

func TestPoolEligible(t *testing.T) {
	tol := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoSchedule}
	testCases := []struct {
		name     string
		svc      *ptesting.ServiceBuilder
		pool     []ptesting.PoolOption
		wantWhy  string
		eligible bool
	}{
		{name: "plain pool, plain service", svc: ptesting.NewService("t", "s"), eligible: true},
		{
			name:    "NoSchedule taint not tolerated",
			svc:     ptesting.NewService("t", "s"),
			pool:    []ptesting.PoolOption{ptesting.PoolTaint("dedicated", "db", corev1.TaintEffectNoSchedule)},
			wantWhy: "taint dedicated=db:NoSchedule not tolerated",
		},
		{
			name:     "NoSchedule taint tolerated",
			svc:      ptesting.NewService("t", "s").NodePool(nil, tol),
			pool:     []ptesting.PoolOption{ptesting.PoolTaint("dedicated", "db", corev1.TaintEffectNoSchedule)},
			eligible: true,
		},
		{
			name:     "PreferNoSchedule does not exclude",
			svc:      ptesting.NewService("t", "s"),
			pool:     []ptesting.PoolOption{ptesting.PoolTaint("soft", "", corev1.TaintEffectPreferNoSchedule)},
			eligible: true,
		},
		{
			name:    "NoExecute with another value",
			svc:     ptesting.NewService("t", "s").NodePool(nil, tol),
			pool:    []ptesting.PoolOption{ptesting.PoolTaint("dedicated", "cache", corev1.TaintEffectNoExecute)},
			wantWhy: "taint dedicated=cache:NoExecute not tolerated",
		},
		{
			name:    "selector label missing",
			svc:     ptesting.NewService("t", "s").NodePool(map[string]string{"pool": "db", "disk": "ssd"}),
			pool:    []ptesting.PoolOption{ptesting.PoolLabel("pool", "db")},
			wantWhy: "label disk=ssd of nodePool.nodeSelector missing",
		},
		{
			name:     "selector matches",
			svc:      ptesting.NewService("t", "s").NodePool(map[string]string{"pool": "db"}),
			pool:     []ptesting.PoolOption{ptesting.PoolLabel("pool", "db"), ptesting.PoolLabel("x", "y")},
			eligible: true,
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			m := framework.NewMember(ptesting.NewMember("a").Pool("p", "4", "8Gi", tc.pool...).Build())
			svc := framework.NewService(tc.svc.Build())
			g.Expect(framework.PoolEligible(svc, &m.Pools[0])).To(Equal(tc.eligible))
			g.Expect(framework.IneligibleReason(svc, &m.Pools[0])).To(Equal(tc.wantWhy))
		})
	}
}

func TestFitsAndUtilisation(t *testing.T) {
	g := NewWithT(t)
	m := framework.NewMember(ptesting.NewMember("a").
		Pool("p", "4", "8Gi", ptesting.Requested("2", "4Gi"), ptesting.EphemeralStorage("10Gi", "8Gi")).
		Pool("nostorage", "4", "8Gi").Build())
	p, q := &m.Pools[0], &m.Pools[1]
	need := framework.Resources{MilliCPU: 2000, Memory: 4 << 30, Storage: 3 << 30}
	g.Expect(framework.Fits(need, p, false)).To(BeTrue())
	g.Expect(framework.Fits(need, p, true)).To(BeFalse())
	// A pool that reports no ephemeral-storage is not checked for storage.
	g.Expect(framework.Fits(need, q, true)).To(BeTrue())
	g.Expect(framework.Utilisation(p, framework.Resources{})).To(BeNumerically("~", 0.5))
	g.Expect(framework.Utilisation(p, need)).To(BeNumerically("~", 1.0))
	g.Expect(framework.Utilisation(&framework.Pool{}, need)).To(BeNumerically("~", 1.0))

	svc := framework.NewService(ptesting.NewService("t", "s").Requests("1", "1Gi").Build())
	g.Expect(framework.PickPool(svc, m, true)).To(Equal(1))
	// Already placed here: nothing is added.
	svc.Current = "a"
	g.Expect(framework.NeedOn(svc, m)).To(Equal(framework.Resources{}))
}
