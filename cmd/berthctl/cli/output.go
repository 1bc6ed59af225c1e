package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"
)

// Output formats of -o, as kubectl names them.
const (
	outputTable    = ""
	outputWide     = "wide"
	outputJSON     = "json"
	outputYAML     = "yaml"
	outputName     = "name"
	outputJSONPath = "jsonpath"
)

// outputFormat is a parsed -o flag.
type outputFormat struct {
	kind string
	// template is the parsed jsonpath=... expression.
	template *jsonpath.JSONPath
}

// parseOutput parses -o: empty (a table), wide, json, yaml, name or
// jsonpath=<template>.
func parseOutput(s string) (outputFormat, error) {
	switch s {
	case outputTable, outputWide, outputJSON, outputYAML, outputName:
		return outputFormat{kind: s}, nil
	}
	if tmpl, ok := strings.CutPrefix(s, outputJSONPath+"="); ok {
		if tmpl == "" {
			return outputFormat{}, fmt.Errorf("--output: %q: the jsonpath template is empty, e.g. jsonpath='{.items[*].metadata.name}'", s)
		}
		jp := jsonpath.New("output").AllowMissingKeys(true)
		if err := jp.Parse(tmpl); err != nil {
			return outputFormat{}, fmt.Errorf("--output: %q: %w", s, err)
		}
		return outputFormat{kind: outputJSONPath, template: jp}, nil
	}
	return outputFormat{}, fmt.Errorf("--output: %q is not supported (use wide, json, yaml, name or jsonpath=<template>, or leave it out for a table)", s)
}

// table reports whether the format prints a table.
func (f outputFormat) table() bool { return f.kind == outputTable || f.kind == outputWide }

// printObjects prints objs in a machine-readable format. One object asked
// for by name is printed alone, anything else as a kubectl List, as kubectl
// does.
func printObjects(out io.Writer, f outputFormat, scheme *kruntime.Scheme, objs []client.Object, single bool) error {
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		gvk, err := apiutil.GVKForObject(o, scheme)
		if err != nil {
			return err
		}
		if f.kind == outputName {
			_, _ = fmt.Fprintf(out, "%s.%s/%s\n", strings.ToLower(gvk.Kind), gvk.Group, o.GetName())
			continue
		}
		m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return fmt.Errorf("converting %s %s: %w", gvk.Kind, o.GetName(), err)
		}
		m["apiVersion"], m["kind"] = gvk.GroupVersion().String(), gvk.Kind
		items = append(items, m)
	}
	if f.kind == outputName {
		return nil
	}
	var doc any = map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": items}
	if single && len(items) == 1 {
		doc = items[0]
	}
	switch f.kind {
	case outputJSON:
		raw, err := json.MarshalIndent(doc, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", raw)
		return err
	case outputYAML:
		raw, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = out.Write(raw)
		return err
	case outputJSONPath:
		// jsonpath works on the JSON form, as kubectl's printer does.
		raw, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		var data any
		if err := json.Unmarshal(raw, &data); err != nil {
			return err
		}
		buf := &bytes.Buffer{}
		if err := f.template.Execute(buf, data); err != nil {
			return fmt.Errorf("--output: jsonpath: %w", err)
		}
		_, err = out.Write(buf.Bytes())
		return err
	}
	return fmt.Errorf("--output: %q prints no objects", f.kind)
}
