package main

import (
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// TestChartRejectsBadValues: values.schema.json and the templates refuse
// bad input with a message that names the value.
func TestChartRejectsBadValues(t *testing.T) {
	if testing.Short() {
		t.Skip("runs helm")
	}
	root := filepath.Join("..", "..")
	testCases := []struct {
		name    string
		set     []string
		wantErr []string
	}{
		{name: "no hub URL while installing spokes", set: nil,
			wantErr: []string{"hub.server is required when the hub installs spokes"}},
		{name: "hub URL not https", set: []string{"hub.server=http://mgmt:6443"},
			wantErr: []string{"hub.server"}},
		{name: "misspelt value", set: []string{"hub.server=https://mgmt:6443", "hub.srever=x"},
			wantErr: []string{"hub", "srever"}},
		{name: "bad exposure CIDR", set: []string{"hub.server=https://mgmt:6443", "hub.exposureSourceCIDRs={10.0.0.1}"},
			wantErr: []string{"hub.exposureSourceCIDRs"}},
		{name: "spoke without member name", set: []string{"hub.enabled=false", "spoke.enabled=true"},
			wantErr: []string{"spoke.memberName is required"}},
		{name: "member name not a DNS label", set: []string{"hub.enabled=false", "spoke.enabled=true", "spoke.memberName=Edge_1"},
			wantErr: []string{"spoke.memberName"}},
		{name: "grace factor below 1", set: []string{"hub.server=https://mgmt:6443", "hub.leaseGraceFactor=0.5"},
			wantErr: []string{"hub.leaseGraceFactor"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			args := []string{}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			_, err := Render(root, args...)
			g.Expect(err).To(HaveOccurred())
			for _, want := range tc.wantErr {
				g.Expect(err.Error()).To(ContainSubstring(want))
			}
		})
	}
	// The same values with the mistake fixed render.
	g := NewWithT(t)
	out, err := Render(root, "--set", "hub.server=https://mgmt:6443")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.Count(string(out), "\nkind: CustomResourceDefinition")).To(Equal(4))
}
