package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Binaries are the images berth ships: the commands platform teams run.
var Binaries = []string{"berth-hub", "berth-spoke", "berthctl"}

// descriptions are the images' org.opencontainers.image.description.
var descriptions = map[string]string{
	"berth-hub":   "berth's hub: registers member clusters and places managed data services",
	"berth-spoke": "berth's agent in a member cluster: realises the ServiceWorks the hub places on it",
	"berthctl":    "berth's command-line tool",
}

// Image facts shared with the Helm chart and hub/spokeinstall.
const (
	// DefaultRegistry names the images, as the chart's values do.
	DefaultRegistry = "ghcr.io/berth-io"
	// User is the non-root uid:gid the images run as.
	User = "65532:65532"
	// CABundle is where Go's crypto/x509 looks on Linux.
	CABundle = "/etc/ssl/certs/ca-certificates.crt"
	// Source is the org.opencontainers.image.source label.
	Source = "https://github.com/berth-io/berth"
	// LabelCAVersion records the Debian ca-certificates version.
	LabelCAVersion = "io.berth.ca-certificates.version"
	module         = "github.com/berth-io/berth"
)

// Options say what to build.
type Options struct {
	// Names of the images, a subset of Binaries.
	Names []string
	// OutDir receives <name>.tar.
	OutDir string
	// Version is stamped into the binaries and the labels.
	Version string
	// Registry prefixes the image names.
	Registry string
	// Arch is the GOARCH.
	Arch string
	// CABundle overrides the CA bundle path (tests).
	CABundle string
}

// Result is one built image.
type Result struct {
	Ref, Digest, Path string
	Size              int64
}

// Build builds every image of o.
func Build(ctx context.Context, o Options) ([]Result, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	bundle := o.CABundle
	if bundle == "" {
		bundle = CABundle
	}
	ca, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("the CA bundle of Debian's ca-certificates package (apt-get install ca-certificates): %w", err)
	}
	caVersion, err := debianVersion("ca-certificates")
	if err != nil {
		return nil, err
	}
	revision, created := gitHead(root)
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "berth-images-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(work) }()

	var out []Result
	for _, name := range o.Names {
		bin := filepath.Join(work, name)
		if err := buildBinary(ctx, root, name, bin, o); err != nil {
			return nil, err
		}
		img, err := Image(name, bin, ca, ImageMeta{Version: o.Version, Revision: revision, Created: created, CAVersion: caVersion, Arch: o.Arch})
		if err != nil {
			return nil, err
		}
		ref := fmt.Sprintf("%s/%s:%s", o.Registry, name, o.Version)
		path := filepath.Join(o.OutDir, name+".tar")
		if err := WriteOCIArchive(img, ref, path, filepath.Join(work, name+"-layout")); err != nil {
			return nil, err
		}
		d, _ := img.Digest()
		st, _ := os.Stat(path)
		out = append(out, Result{Ref: ref, Digest: d.String(), Path: path, Size: st.Size()})
	}
	return out, nil
}

func (o Options) validate() error {
	var errs []error
	if len(o.Names) == 0 {
		errs = append(errs, errors.New("--images: name at least one image"))
	}
	for _, n := range o.Names {
		if !slices.Contains(Binaries, n) {
			errs = append(errs, fmt.Errorf("--images: unknown image %q (known: %s)", n, strings.Join(Binaries, ", ")))
		}
	}
	if o.Version == "" || strings.ContainsAny(o.Version, " /:@") {
		errs = append(errs, fmt.Errorf("--version: %q is not a valid image tag", o.Version))
	}
	if o.Arch == "" {
		errs = append(errs, errors.New("--arch: must not be empty"))
	}
	if o.OutDir == "" {
		errs = append(errs, errors.New("--out: must not be empty"))
	}
	return errors.Join(errs...)
}

// buildBinary builds ./cmd/<name> statically for linux/<arch>.
func buildBinary(ctx context.Context, root, name, dst string, o Options) error {
	ldflags := fmt.Sprintf("-s -w -X %s/cmd/berthctl/cli.Version=%s -X %s/spoke/agent.Version=%s", module, o.Version, module, o.Version)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", dst, "./cmd/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.Arch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %w\n%s", name, err, out)
	}
	return nil
}

// ImageMeta is what the labels and the config say about an image.
type ImageMeta struct {
	Version, Revision, CAVersion, Arch string
	Created                            time.Time
}

// Image builds the image of one binary on an empty base.
func Image(name, binary string, caBundle []byte, m ImageMeta) (v1.Image, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootFS(name, bin, caBundle, m.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("making the layer of %s: %w", name, err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		CreatedBy: "hack/images: /" + name + ", " + CABundle + ", /etc/passwd, /etc/group", Created: v1.Time{Time: m.Created},
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", m.Arch
	cf.Created = v1.Time{Time: m.Created}
	cf.Config.Entrypoint = []string{"/" + name}
	cf.Config.Cmd = nil
	cf.Config.User = User
	cf.Config.WorkingDir = "/"
	cf.Config.Env = []string{"PATH=/", "SSL_CERT_FILE=" + CABundle}
	cf.Config.Labels = Labels(name, m)
	return mutate.ConfigFile(img, cf)
}

// Labels are the image's OCI annotations-as-labels.
func Labels(name string, m ImageMeta) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       name,
		"org.opencontainers.image.description": descriptions[name],
		"org.opencontainers.image.version":     m.Version,
		"org.opencontainers.image.source":      Source,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     m.Created.UTC().Format(time.RFC3339),
		LabelCAVersion:                         m.CAVersion,
	}
	if m.Revision != "" {
		l["org.opencontainers.image.revision"] = m.Revision
	}
	return l
}

// rootFS is the layer: the binary, the CA bundle and the nonroot user.
func rootFS(name string, bin, ca []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(path string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: path + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(path string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: mode, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	steps := []func() error{
		func() error { return dir("etc") },
		func() error {
			return file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"))
		},
		func() error { return file("etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")) },
		func() error { return dir("etc/ssl") },
		func() error { return dir("etc/ssl/certs") },
		func() error { return file(strings.TrimPrefix(CABundle, "/"), 0o644, ca) },
		func() error {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: mtime, Format: tar.FormatPAX})
		},
		func() error { return file(name, 0o755, bin) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteOCIArchive writes img as an OCI image layout named ref into a tar
// file at path, using dir as scratch space.
func WriteOCIArchive(img v1.Image, ref, path, dir string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref,
		// containerd names imported images after this annotation.
		"io.containerd.image.name": ref,
	})); err != nil {
		return fmt.Errorf("writing the layout of %s: %w", ref, err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := tarDir(f, dir); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tarDir writes the files under dir into w, in name order, with fixed
// times and owners.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o755, ModTime: time.Unix(0, 0)})
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// debianVersion reads an installed package's version from dpkg's status
// file.
func debianVersion(pkg string) (string, error) {
	f, err := os.Open("/var/lib/dpkg/status")
	if err != nil {
		return "", fmt.Errorf("reading dpkg's status for %s (a Debian build machine is needed): %w", pkg, err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	in := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			in = false
		case strings.HasPrefix(line, "Package: "):
			in = strings.TrimPrefix(line, "Package: ") == pkg
		case in && strings.HasPrefix(line, "Version: "):
			return strings.TrimPrefix(line, "Version: "), nil
		}
	}
	return "", fmt.Errorf("the Debian package %s is not installed (apt-get install %s)", pkg, pkg)
}

// gitHead is the commit and its time, so builds of one commit match; the
// zero time outside a git checkout.
func gitHead(root string) (string, time.Time) {
	out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%H %ct").Output()
	if err != nil {
		return "", time.Unix(0, 0).UTC()
	}
	rev, ts, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return rev, time.Unix(0, 0).UTC()
	}
	return rev, time.Unix(sec, 0).UTC()
}

// repoRoot is the directory of the main module.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run inside berth's module")
	}
	return filepath.Dir(mod), nil
}
