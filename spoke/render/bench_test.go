package render

import (
	"testing"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// BenchmarkRender measures one render of a co-located built-in PostgreSQL
// (the largest object set) and of a remote Zalando PostgreSQL with Cilium.
func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name string
		w    *fleetv1alpha1.ServiceWork
		caps fleetv1alpha1.Capabilities
	}{
		{"builtin-colocated", newWork(fleetv1alpha1.EnginePostgreSQL).build(), capsNone},
		{"zalando-remote-cilium", newWork(fleetv1alpha1.EnginePostgreSQL).remoteProvider().build(), withOperators(capsCilium)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := inputs(bc.w, bc.caps)
			in.GeneratedCredentials = map[string][]byte{
				KeyUsername: []byte("app"), KeyPassword: []byte("pw"), KeyDatabase: []byte("app"), keyReplicationPassword: []byte("r"),
			}
			in.Connection = pgConnection()
			var objects int
			for b.Loop() {
				res, err := Render(in)
				if err != nil {
					b.Fatal(err)
				}
				objects = len(res.Objects)
			}
			b.ReportMetric(float64(objects), "objects/op")
		})
	}
}
