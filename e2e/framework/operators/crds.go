package operators

import (
	"embed"
	"fmt"
	"path/filepath"
	"runtime"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// crdFiles are the operators' CRDs and Cilium's CiliumNetworkPolicy CRD,
// hand-made minimal structural copies of the real ones (see each file's
// header).
//
//go:embed crds/*.yaml
var crdFiles embed.FS

// CRDDir is the directory holding the CRD files, for envtest.InstallCRDs
// (spoke/render's tests install all four from it).
func CRDDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "crds")
}

// CRD returns the CustomResourceDefinition of op's resource.
func CRD(op Operator) (*apiextensionsv1.CustomResourceDefinition, error) {
	in, err := InstallationOf(op)
	if err != nil {
		return nil, err
	}
	raw, err := crdFiles.ReadFile("crds/" + in.CRDFile)
	if err != nil {
		return nil, fmt.Errorf("reading the %s CRD: %w", op, err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(raw, crd); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", in.CRDFile, err)
	}
	return crd, nil
}
