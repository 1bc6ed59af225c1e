package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// memberState is (Available status, has the Unreachable taint) of a member.
func memberState(name string) func() [2]string {
	return func() [2]string {
		mc := &fleetv1alpha1.MemberCluster{}
		if err := env.Hub.Get(context.Background(), clientKey(name), mc); err != nil {
			return [2]string{"", ""}
		}
		avail := ""
		if c := meta.FindStatusCondition(mc.Status.Conditions, fleetv1alpha1.ConditionAvailable); c != nil {
			avail = string(c.Status)
		}
		tainted := slices.ContainsFunc(mc.Spec.Taints, func(t fleetv1alpha1.MemberTaint) bool {
			return t.Key == fleetv1alpha1.TaintKeyUnreachable && t.Effect == fleetv1alpha1.TaintNoPlace
		})
		if tainted {
			return [2]string{avail, "tainted"}
		}
		return [2]string{avail, "clean"}
	}
}

// TestStoppedSpokeMakesMemberUnavailable: with the spoke stopped, the Lease
// expires (6 s x grace 1.5) and the hub marks the member unavailable and
// taints it; a restarted spoke clears both.
func TestStoppedSpokeMakesMemberUnavailable(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(WaitForMembersAvailable(ctx, env.Hub, allMembers, 3*time.Minute)).To(Succeed())

	const member = "workload-2"
	g.Expect(env.Controls.StopSpoke(ctx, member)).To(Succeed())
	stopped := time.Now()
	g.Eventually(memberState(member), time.Minute, 250*time.Millisecond).Should(Equal([2]string{"False", "tainted"}))
	t.Logf("Unavailable and tainted %s after the spoke stopped (lease 6s, grace 1.5)", time.Since(stopped).Round(100*time.Millisecond))

	g.Expect(env.Controls.StartSpoke(ctx, member)).To(Succeed())
	started := time.Now()
	g.Eventually(memberState(member), time.Minute, 250*time.Millisecond).Should(Equal([2]string{"True", "clean"}))
	t.Logf("Available and untainted %s after the spoke restarted", time.Since(started).Round(100*time.Millisecond))
}
