package main

import (
	"archive/tar"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	. "github.com/onsi/gomega"
)

// TestBuildBerthctlImage builds the berthctl image for this machine's
// architecture, reads the OCI archive back and checks what a runtime sees:
// the entrypoint, the non-root user, the labels, a static binary that runs,
// and the Debian CA bundle.
func TestBuildBerthctlImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and an image")
	}
	g := NewWithT(t)
	out := t.TempDir()
	results, err := Build(t.Context(), Options{Names: []string{"berthctl"}, OutDir: out, Version: "v0.0.0-test", Registry: DefaultRegistry, Arch: runtime.GOARCH})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(results).To(HaveLen(1))
	g.Expect(results[0].Ref).To(Equal("ghcr.io/berth-io/berthctl:v0.0.0-test"))

	// The archive is an OCI image layout.
	dir := t.TempDir()
	untar(t, results[0].Path, dir)
	g.Expect(filepath.Join(dir, "oci-layout")).To(BeAnExistingFile())
	idx, err := layout.ImageIndexFromPath(dir)
	g.Expect(err).NotTo(HaveOccurred())
	im, err := idx.IndexManifest()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(im.Manifests).To(HaveLen(1))
	g.Expect(im.Manifests[0].Annotations).To(HaveKeyWithValue("org.opencontainers.image.ref.name", results[0].Ref))
	img, err := idx.Image(im.Manifests[0].Digest)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(im.Manifests[0].Digest.String()).To(Equal(results[0].Digest))

	cf, err := img.ConfigFile()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cf.OS).To(Equal("linux"))
	g.Expect(cf.Architecture).To(Equal(runtime.GOARCH))
	g.Expect(cf.Config.Entrypoint).To(Equal([]string{"/berthctl"}))
	g.Expect(cf.Config.User).To(Equal("65532:65532"), "non-root, numeric, so runAsNonRoot can check it")
	g.Expect(cf.Config.Labels).To(HaveKeyWithValue("org.opencontainers.image.title", "berthctl"))
	g.Expect(cf.Config.Labels).To(HaveKeyWithValue("org.opencontainers.image.version", "v0.0.0-test"))
	g.Expect(cf.Config.Labels).To(HaveKeyWithValue("org.opencontainers.image.source", Source))
	g.Expect(cf.Config.Labels).To(HaveKey("org.opencontainers.image.revision"))
	g.Expect(cf.Config.Labels).To(HaveKeyWithValue(LabelCAVersion, Not(BeEmpty())))

	layers, err := img.Layers()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(layers).To(HaveLen(1), "one layer on an empty base: nothing was pulled")
	rc, err := layers[0].Uncompressed()
	g.Expect(err).NotTo(HaveOccurred())
	rootfs := t.TempDir()
	files := extract(t, rc, rootfs)
	g.Expect(files).To(HaveKeyWithValue("berthctl", int64(0o755)))
	g.Expect(files).To(HaveKeyWithValue("etc/ssl/certs/ca-certificates.crt", int64(0o644)))
	g.Expect(files).To(HaveKeyWithValue("etc/passwd", int64(0o644)))
	host, err := os.ReadFile(CABundle)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.ReadFile(filepath.Join(rootfs, "etc/ssl/certs/ca-certificates.crt"))).To(Equal(host))
	g.Expect(os.ReadFile(filepath.Join(rootfs, "etc/passwd"))).To(ContainSubstring("nonroot:x:65532:65532:"))

	// Static: no interpreter, no shared libraries.
	bin := filepath.Join(rootfs, "berthctl")
	f, err := elf.Open(bin)
	g.Expect(err).NotTo(HaveOccurred())
	for _, p := range f.Progs {
		g.Expect(p.Type).NotTo(Equal(elf.PT_INTERP), "a static binary has no ELF interpreter")
	}
	libs, _ := f.ImportedLibraries()
	g.Expect(libs).To(BeEmpty())
	_ = f.Close()
	// It runs, and carries the version.
	got, err := exec.Command(bin, "version", "--client").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s", got)
	g.Expect(string(got)).To(HavePrefix("Client Version: v0.0.0-test "))
}

func TestOptionsErrors(t *testing.T) {
	testCases := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{name: "unknown image", o: Options{Names: []string{"berth-dev"}, OutDir: "x", Version: "v1", Arch: "amd64"}, wantErr: `--images: unknown image "berth-dev" (known: berth-hub, berth-spoke, berthctl)`},
		{name: "no image", o: Options{OutDir: "x", Version: "v1", Arch: "amd64"}, wantErr: "--images: name at least one image"},
		{name: "bad version", o: Options{Names: []string{"berthctl"}, OutDir: "x", Version: "v1 beta", Arch: "amd64"}, wantErr: `--version: "v1 beta" is not a valid image tag`},
		{name: "no arch", o: Options{Names: []string{"berthctl"}, OutDir: "x", Version: "v1"}, wantErr: "--arch: must not be empty"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(tc.o.validate()).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func untar(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	extract(t, f, dir)
}

// extract writes a tar stream's regular files under dir and returns their
// modes by name.
func extract(t *testing.T, r io.Reader, dir string) map[string]int64 {
	t.Helper()
	modes := map[string]int64{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return modes
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(target, data, os.FileMode(h.Mode)); err != nil {
				t.Fatal(err)
			}
			modes[name] = h.Mode
		}
	}
}
