// Command images builds berth's container images without Docker and
// without pulling a base image (`make images`): each is one layer on an
// empty base, holding
//
//   - the static binary (CGO_ENABLED=0, -trimpath) at /<name>;
//   - /etc/ssl/certs/ca-certificates.crt, the CA bundle of the build
//     machine's Debian ca-certificates package (its version is the label
//     io.berth.ca-certificates.version);
//   - /etc/passwd and /etc/group with the non-root user 65532 (nonroot),
//     which the image runs as,
//
// with the entrypoint /<name>, the OCI labels (title, description,
// version, source, revision, licenses, created) and every file time set to
// the commit time, so the same commit builds the same layer. Each image is
// written as an OCI image layout in a tar file, <out>/<name>.tar, which
// `ctr images import`, `podman load`, `skopeo copy oci-archive:` and
// `docker load` (Docker 25+) read.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
)

func main() {
	var o Options
	var names string
	flag.StringVar(&o.OutDir, "out", "bin/images", "directory for the <name>.tar files")
	flag.StringVar(&o.Version, "version", "dev", "version stamped into the binaries and the labels")
	flag.StringVar(&o.Registry, "registry", DefaultRegistry, "registry and path the images are named under")
	flag.StringVar(&o.Arch, "arch", "amd64", "target architecture (GOARCH)")
	flag.StringVar(&names, "images", strings.Join(Binaries, ","), "images to build")
	flag.Parse()
	o.Names = strings.Split(names, ",")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	results, err := Build(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
	for _, r := range results {
		fmt.Printf("%s  %s  %s (%.1f MiB)\n", r.Ref, r.Digest, r.Path, float64(r.Size)/(1<<20))
	}
}
