package framework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// FieldError is an error about one field of a configuration, named by its
// path, e.g. "args.allowUnknown: must be a boolean".
type FieldError struct {
	// Field is the path, e.g. "profiles[1].scores[0].weight".
	Field string
	// Detail says what is wrong.
	Detail string
}

// Error renders "<field>: <detail>".
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Detail
	}
	return e.Field + ": " + e.Detail
}

// FieldErrorf returns a FieldError with a formatted detail.
func FieldErrorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)}
}

// PrefixField puts prefix in front of the field paths in err: a FieldError
// "args.x: bad" becomes "spec.filters[0].args.x: bad". Errors joined with
// errors.Join are prefixed one by one; any other error becomes a FieldError
// on prefix itself.
func PrefixField(prefix string, err error) error {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs := joined.Unwrap()
		out := make([]error, 0, len(errs))
		for _, e := range errs {
			out = append(out, PrefixField(prefix, e))
		}
		return errors.Join(out...)
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: joinPath(prefix, fe.Field), Detail: fe.Detail}
	}
	return &FieldError{Field: prefix, Detail: err.Error()}
}

func joinPath(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	default:
		return prefix + "." + field
	}
}

// DecodeArgs decodes a plugin's args strictly into out, a pointer to a
// struct. Empty or null args leave out unchanged, so callers set defaults
// first. Errors name the field under "args", e.g.
// "args.allowUnknown: must be a boolean" or "args.foo: unknown field".
func DecodeArgs(raw json.RawMessage, out any) error {
	return DecodeStrict("args", raw, out)
}

// DecodeStrict decodes JSON into out, rejecting unknown fields and values
// of the wrong type, with errors that name the field below root. Types that
// implement json.Unmarshaler (metav1.Duration, resource.Quantity) decode
// themselves.
func DecodeStrict(root string, data []byte, out any) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("DecodeStrict needs a non-nil pointer, got %T", out)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return &FieldError{Field: root, Detail: "invalid JSON: " + err.Error()}
	}
	if v == nil {
		return nil
	}
	return decodeValue(root, v, rv.Elem())
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func decodeValue(path string, v any, rv reflect.Value) error {
	if rv.CanAddr() && rv.Addr().Type().Implements(unmarshalerType) && rv.Kind() != reflect.Pointer {
		raw, err := json.Marshal(v)
		if err != nil {
			return &FieldError{Field: path, Detail: err.Error()}
		}
		if err := rv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return &FieldError{Field: path, Detail: err.Error()}
		}
		return nil
	}
	if rv.Type() == reflect.TypeFor[json.RawMessage]() {
		raw, err := json.Marshal(v)
		if err != nil {
			return &FieldError{Field: path, Detail: err.Error()}
		}
		rv.SetBytes(raw)
		return nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if v == nil {
			rv.SetZero()
			return nil
		}
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		return decodeValue(path, v, rv.Elem())
	case reflect.Interface:
		if rv.NumMethod() != 0 {
			return &FieldError{Field: path, Detail: "cannot decode into " + rv.Type().String()}
		}
		rv.Set(reflect.ValueOf(v))
		return nil
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return mustBe(path, "an object")
		}
		return decodeStruct(path, obj, rv)
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return mustBe(path, "an object")
		}
		if rv.Type().Key().Kind() != reflect.String {
			return &FieldError{Field: path, Detail: "cannot decode into " + rv.Type().String()}
		}
		if rv.IsNil() {
			rv.Set(reflect.MakeMapWithSize(rv.Type(), len(obj)))
		}
		for _, k := range sortedKeys(obj) {
			ev := reflect.New(rv.Type().Elem()).Elem()
			if err := decodeValue(joinPath(path, k), obj[k], ev); err != nil {
				return err
			}
			rv.SetMapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()), ev)
		}
		return nil
	case reflect.Slice:
		if v == nil {
			rv.SetZero()
			return nil
		}
		arr, ok := v.([]any)
		if !ok {
			return mustBe(path, "a list")
		}
		s := reflect.MakeSlice(rv.Type(), len(arr), len(arr))
		for i, e := range arr {
			if err := decodeValue(path+"["+strconv.Itoa(i)+"]", e, s.Index(i)); err != nil {
				return err
			}
		}
		rv.Set(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mustBe(path, "a boolean")
		}
		rv.SetBool(b)
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mustBe(path, "a string")
		}
		rv.SetString(s)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return mustBe(path, "an integer")
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || rv.OverflowInt(i) {
			return mustBe(path, "an integer")
		}
		rv.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return mustBe(path, "a non-negative integer")
		}
		i, err := strconv.ParseUint(string(n), 10, 64)
		if err != nil || rv.OverflowUint(i) {
			return mustBe(path, "a non-negative integer")
		}
		rv.SetUint(i)
		return nil
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return mustBe(path, "a number")
		}
		f, err := n.Float64()
		if err != nil {
			return mustBe(path, "a number")
		}
		rv.SetFloat(f)
		return nil
	default:
		return &FieldError{Field: path, Detail: "cannot decode into " + rv.Type().String()}
	}
}

func mustBe(path, what string) error {
	return &FieldError{Field: path, Detail: "must be " + what}
}

func decodeStruct(path string, obj map[string]any, rv reflect.Value) error {
	fields := structFields(rv.Type())
	for _, k := range sortedKeys(obj) {
		idx, ok := fields[k]
		if !ok {
			return &FieldError{Field: joinPath(path, k), Detail: "unknown field"}
		}
		f := rv.FieldByIndex(idx)
		if err := decodeValue(joinPath(path, k), obj[k], f); err != nil {
			return err
		}
	}
	return nil
}

// structFields maps JSON names to field indexes, following inline
// (anonymous, untagged or ",inline") embedded structs.
func structFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, idx := range structFields(ft) {
					out[k] = append([]int{i}, idx...)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = []int{i}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	// Sorted so that the first error reported is stable.
	return slices.Sorted(maps.Keys(m))
}
