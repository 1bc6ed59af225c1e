package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/berth-io/berth/deploy/samples"
)

// check lints the chart and renders it with each values file of its ci/
// folder, then checks the rendered PrometheusRule with the pinned promtool.
func check(root string) error {
	files, err := filepath.Glob(filepath.Join(root, chartDir, "ci", "*.yaml"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no values files in %s/ci", chartDir)
	}
	var errs []error
	var rules [][]byte
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		if _, err := Helm(root, "lint", chartDir, "--strict", "--values", rel); err != nil {
			errs = append(errs, fmt.Errorf("helm lint with %s: %w", rel, err))
			continue
		}
		out, err := Render(root, "--values", rel)
		if err != nil {
			errs = append(errs, fmt.Errorf("helm template with %s: %w", rel, err))
			continue
		}
		objs, err := samples.Decode(out)
		if err != nil {
			errs = append(errs, fmt.Errorf("rendered with %s: %w", rel, err))
			continue
		}
		fmt.Printf("chart with %s: %d objects\n", rel, len(objs))
		for _, o := range objs {
			if o.GetKind() != "PrometheusRule" {
				continue
			}
			r, err := RuleFile(o)
			if err != nil {
				errs = append(errs, fmt.Errorf("rendered with %s: %w", rel, err))
				continue
			}
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		errs = append(errs, errors.New("no values file of ci/ renders the PrometheusRule; promtool checked nothing"))
	}
	for i, r := range rules {
		if err := promtool(root, r, i); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Render runs helm template on the chart with the release name and
// namespace of the kustomize bases and the pinned Kubernetes version.
func Render(root string, args ...string) ([]byte, error) {
	return Helm(root, append([]string{"template", releaseName, chartDir, "--namespace", releaseNS,
		"--kube-version", kubeVersion(), "--include-crds"}, args...)...)
}

// RuleFile is a PrometheusRule's spec as a Prometheus rule file.
func RuleFile(o *unstructured.Unstructured) ([]byte, error) {
	groups, ok, err := unstructured.NestedSlice(o.Object, "spec", "groups")
	if err != nil || !ok {
		return nil, fmt.Errorf("PrometheusRule %s has no spec.groups", o.GetName())
	}
	return yaml.Marshal(map[string]any{"groups": groups})
}

func promtool(root string, rules []byte, i int) error {
	dir, err := os.MkdirTemp("", "berth-rules-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	path := filepath.Join(dir, fmt.Sprintf("berth-rules-%d.yaml", i))
	if err := os.WriteFile(path, rules, 0o600); err != nil {
		return err
	}
	cmd := exec.Command("go", "tool", "-modfile="+toolsMod, "promtool", "check", "rules", path)
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("promtool check rules: %w: %s", err, strings.TrimSpace(out.String()))
	}
	fmt.Print(out.String())
	return nil
}
