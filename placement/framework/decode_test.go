package framework_test

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/placement/framework"
)

type inner struct {
	Key   string `json:"key"`
	Count int32  `json:"count,omitempty"`
}

type embedded struct {
	Shared string `json:"shared,omitempty"`
}

type testArgs struct {
	embedded     `json:",inline"`
	AllowUnknown bool              `json:"allowUnknown,omitempty"`
	Ratio        float64           `json:"ratio,omitempty"`
	Limit        *int64            `json:"limit,omitempty"`
	Items        []inner           `json:"items,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Timeout      metav1.Duration   `json:"timeout,omitempty"`
	Size         resource.Quantity `json:"size,omitempty"`
}

func TestDecodeArgs(t *testing.T) {
	testCases := []struct {
		name    string
		raw     string
		want    testArgs
		wantErr string
	}{
		{name: "empty keeps defaults", raw: "", want: testArgs{AllowUnknown: true}},
		{name: "null keeps defaults", raw: "null", want: testArgs{AllowUnknown: true}},
		{name: "empty object keeps defaults", raw: "{}", want: testArgs{AllowUnknown: true}},
		{
			name: "every kind of field",
			raw:  `{"shared":"s","allowUnknown":false,"ratio":0.5,"limit":3,"items":[{"key":"a","count":2}],"labels":{"x":"y"},"timeout":"2ms","size":"1Gi"}`,
			want: testArgs{
				embedded: embedded{Shared: "s"}, Ratio: 0.5, Limit: ptr(int64(3)), Items: []inner{{Key: "a", Count: 2}},
				Labels: map[string]string{"x": "y"}, Timeout: metav1.Duration{Duration: 2 * time.Millisecond}, Size: resource.MustParse("1Gi"),
			},
		},
		{name: "wrong boolean", raw: `{"allowUnknown":"yes"}`, wantErr: "args.allowUnknown: must be a boolean"},
		{name: "unknown field", raw: `{"allowUnknwon":true}`, wantErr: "args.allowUnknwon: unknown field"},
		{name: "nested list item", raw: `{"items":[{"key":"a"},{"key":1}]}`, wantErr: "args.items[1].key: must be a string"},
		{name: "integer overflow", raw: `{"items":[{"key":"a","count":5000000000}]}`, wantErr: "args.items[0].count: must be an integer"},
		{name: "fraction for integer", raw: `{"limit":1.5}`, wantErr: "args.limit: must be an integer"},
		{name: "map value", raw: `{"labels":{"x":1}}`, wantErr: "args.labels.x: must be a string"},
		{name: "not an object", raw: `[1]`, wantErr: "args: must be an object"},
		{name: "list expected", raw: `{"items":{}}`, wantErr: "args.items: must be a list"},
		{name: "bad duration", raw: `{"timeout":"soon"}`, wantErr: "args.timeout: time: invalid duration"},
		{name: "bad JSON", raw: `{`, wantErr: "args: invalid JSON"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := testArgs{AllowUnknown: true}
			err := framework.DecodeArgs([]byte(tc.raw), &got)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				var fe *framework.FieldError
				g.Expect(errors.As(err, &fe)).To(BeTrue())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestPrefixField(t *testing.T) {
	testCases := []struct {
		name   string
		prefix string
		err    error
		want   string
	}{
		{name: "field error", prefix: "spec.filters[0]", err: framework.FieldErrorf("args.x", "bad"), want: "spec.filters[0].args.x: bad"},
		{name: "index", prefix: "profiles", err: framework.FieldErrorf("[1].weight", "bad"), want: "profiles[1].weight: bad"},
		{name: "plain error", prefix: "spec", err: errors.New("broken"), want: "spec: broken"},
		{name: "joined", prefix: "p", err: errors.Join(framework.FieldErrorf("a", "x"), framework.FieldErrorf("b", "y")), want: "p.a: x\np.b: y"},
		{name: "empty prefix", prefix: "", err: framework.FieldErrorf("a", "x"), want: "a: x"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(framework.PrefixField(tc.prefix, tc.err)).To(MatchError(tc.want))
		})
	}
	NewWithT(t).Expect(framework.PrefixField("x", nil)).To(Succeed())
}

func ptr[T any](v T) *T { return &v }
