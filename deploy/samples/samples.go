// Package samples is berth's sample set: the manifests of this directory,
// embedded into the dev tooling (berth-dev demo) so that it needs no source
// checkout, and a loader that reads them or another directory of manifests.
package samples

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// FS holds the sample manifests of this directory.
//
//go:embed *.yaml
var FS embed.FS

// Object is one object of a sample set and the file it came from.
type Object struct {
	// Obj is the decoded manifest.
	Obj *unstructured.Unstructured
	// File is the base name of its file.
	File string
}

// String is "<Kind> [<namespace>/]<name>".
func (o Object) String() string {
	name := o.Obj.GetName()
	if ns := o.Obj.GetNamespace(); ns != "" {
		name = ns + "/" + name
	}
	return o.Obj.GetKind() + " " + name
}

// kindOrder applies Namespaces first, then PlacementPolicies, then the rest.
func kindOrder(kind string) int {
	switch kind {
	case "Namespace":
		return 0
	case "PlacementPolicy":
		return 1
	default:
		return 2
	}
}

// Load reads every *.yaml of the root of fsys except kustomization.yaml, in
// file name order, and sorts the objects so that namespaces and policies
// come first. Errors name the file and the document.
func Load(fsys fs.FS) ([]Object, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []Object
	for _, file := range files {
		if path.Base(file) == "kustomization.yaml" {
			continue
		}
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		objs, err := Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path.Base(file), err)
		}
		for _, o := range objs {
			out = append(out, Object{Obj: o, File: path.Base(file)})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no manifests")
	}
	slices.SortStableFunc(out, func(a, b Object) int { return kindOrder(a.Obj.GetKind()) - kindOrder(b.Obj.GetKind()) })
	return out, nil
}

// Decode splits a multi-document YAML file into objects; each needs
// apiVersion, kind and metadata.name.
func Decode(raw []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []*unstructured.Unstructured
	for i := 0; ; i++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		switch {
		case u.GetAPIVersion() == "":
			return nil, fmt.Errorf("document %d: apiVersion is missing", i)
		case u.GetKind() == "":
			return nil, fmt.Errorf("document %d: kind is missing", i)
		case u.GetName() == "":
			return nil, fmt.Errorf("document %d (%s): metadata.name is missing", i, u.GetKind())
		}
		out = append(out, u)
	}
}
