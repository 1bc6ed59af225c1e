package v1alpha1_test

import (
	"os"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// TestSupportedVersionsMatchSchema keeps the Go table and the CEL rules in step.
func TestSupportedVersionsMatchSchema(t *testing.T) {
	g := NewWithT(t)
	src, err := os.ReadFile("managedservice_types.go")
	g.Expect(err).NotTo(HaveOccurred())
	for engine, versions := range fleetv1alpha1.SupportedVersions {
		quoted := make([]string, len(versions))
		for i, v := range versions {
			quoted[i] = "'" + v + "'"
		}
		rule := "self.engine != '" + string(engine) + "' || self.version in [" + strings.Join(quoted, ", ") + "]"
		g.Expect(string(src)).To(ContainSubstring(rule), "CEL rule for %s", engine)
		msg := "version must be one of " + strings.Join(versions, ", ") + " for engine " + string(engine)
		g.Expect(string(src)).To(ContainSubstring(msg), "CEL message for %s", engine)
	}
}
