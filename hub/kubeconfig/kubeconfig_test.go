package kubeconfig

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestForTokenRoundTrip(t *testing.T) {
	g := NewWithT(t)
	data, err := ForToken("hub", "https://hub.example:6443", []byte("not-a-real-ca"), "tok")
	g.Expect(err).NotTo(HaveOccurred())
	rc, err := RESTConfig(data)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rc.Host).To(Equal("https://hub.example:6443"))
	g.Expect(rc.BearerToken).To(Equal("tok"))
	g.Expect(rc.CAData).To(Equal([]byte("not-a-real-ca")))
}

func TestForTokenRejectsEmptyFields(t *testing.T) {
	testCases := []struct {
		name    string
		server  string
		token   string
		wantErr string
	}{
		{name: "no server", token: "t", wantErr: "server"},
		{name: "no token", server: "https://x", wantErr: "token"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := ForToken("hub", tc.server, nil, tc.token)
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
		})
	}
}

func TestFromCAPISecret(t *testing.T) {
	good, err := ForToken("c", "https://10.0.0.1:6443", nil, "t")
	if err != nil {
		t.Fatal(err)
	}
	noServer := []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`)
	noContext := []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://a"}}]
`)
	testCases := []struct {
		name    string
		data    map[string][]byte
		wantErr string
	}{
		{name: "valid", data: map[string][]byte{"value": good}},
		{name: "missing key", data: map[string][]byte{"kubeconfig": good}, wantErr: `has no key "value"`},
		{name: "empty", data: map[string][]byte{"value": {}}, wantErr: "empty"},
		{name: "garbage", data: map[string][]byte{"value": []byte("{{{not yaml")}, wantErr: "does not parse"},
		{name: "no current context", data: map[string][]byte{"value": noContext}, wantErr: "no current-context"},
		{name: "no server", data: map[string][]byte{"value": noServer}, wantErr: "has no server"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c-kubeconfig"}, Data: tc.data}
			rc, err := FromCAPISecret(s)
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(rc.Host).To(Equal("https://10.0.0.1:6443"))
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
			g.Expect(err.Error()).To(ContainSubstring("ns/c-kubeconfig"))
		})
	}
}
