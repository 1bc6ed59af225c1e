package work_test

import (
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/berth-io/berth/hub/spokeinstall"
	"github.com/berth-io/berth/spoke/work"
)

// TestInstalledSpokeMayDoWhatTheControllersNeed: the ClusterRole the hub
// installs spokes with covers every permission of work.PolicyRules.
func TestInstalledSpokeMayDoWhatTheControllersNeed(t *testing.T) {
	g := NewWithT(t)
	installed := spokeinstall.Rules()
	covers := func(group, resource, verb string) bool {
		return slices.ContainsFunc(installed, func(r rbacv1.PolicyRule) bool {
			return len(r.ResourceNames) == 0 && slices.Contains(r.APIGroups, group) &&
				slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb)
		})
	}
	for _, rule := range work.PolicyRules() {
		for _, group := range rule.APIGroups {
			for _, resource := range rule.Resources {
				for _, verb := range rule.Verbs {
					g.Expect(covers(group, resource, verb)).To(BeTrue(), "%s %s/%s", verb, group, resource)
				}
			}
		}
	}
}
