package render

import (
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
)

// passwordAlphabet avoids characters that need escaping in URIs and shells.
const passwordAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Keys of the generated credentials Secret besides the normalised ones.
const (
	keyReplicationPassword = "replication-password"
	keyErlangCookie        = "erlang-cookie"
)

// randomString draws n characters of passwordAlphabet from r without
// modulo bias.
func randomString(r io.Reader, n int) (string, error) {
	const limit = 256 - 256%len(passwordAlphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("generating a password: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}

// generatedSecret renders the credentials Secret berth generates. Keys
// present in Inputs.GeneratedCredentials are kept as they are; only missing
// keys get fresh random values, so a password is generated once. The Secret
// is also marked create-only, so an apply layer that did not pass the live
// data still never overwrites it.
func (s *service) generatedSecret() (*unstructured.Unstructured, error) {
	want := map[string]func() (string, error){}
	random := func(n int) func() (string, error) {
		return func() (string, error) { return randomString(s.in.Rand, n) }
	}
	fixed := func(v string) func() (string, error) { return func() (string, error) { return v, nil } }
	switch {
	case s.flavour == FlavourSpotahome:
		want[spotahomeAuthSecretKey] = random(32)
	case s.tmpl.Engine == fleetv1alpha1.EnginePostgreSQL:
		want[KeyUsername], want[KeyPassword], want[KeyDatabase] = fixed(appUser), random(32), fixed(appDatabase)
		want[keyReplicationPassword] = random(32)
	case s.tmpl.Engine == fleetv1alpha1.EngineRedis:
		want[KeyPassword] = random(32)
	case s.tmpl.Engine == fleetv1alpha1.EngineRabbitMQ:
		want[KeyUsername], want[KeyPassword], want[keyErlangCookie] = fixed(appUser), random(32), random(48)
	}
	data := map[string][]byte{}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if v, ok := s.in.GeneratedCredentials[k]; ok && len(v) > 0 {
			data[k] = v
			continue
		}
		v, err := want[k]()
		if err != nil {
			return nil, err
		}
		data[k] = []byte(v)
	}
	name := GeneratedSecretName(s.ref)
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: name.Name, Namespace: s.namespace,
			Annotations: map[string]string{AnnotationCreateOnly: "true", AnnotationKeepOnRetain: "true"},
		},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
	return toUnstructured(sec)
}

// ConnectionData turns the data of the provider's credentials Secret
// (Observed.CredentialsSecret) into berth's normalised connection data:
// engine, host, port, username, password, database or vhost, mode and uri,
// with host and port set to ep, the endpoint reachable from the consumer.
// A provider spoke publishes it to the hub for a remote consumer, or passes
// it as Inputs.Connection when the consumer is co-located.
func ConnectionData(in Inputs, secretData map[string][]byte, ep fleetv1alpha1.Endpoint) (map[string][]byte, error) {
	s, err := newService(&in)
	if err != nil {
		return nil, err
	}
	if !s.provider {
		return nil, fmt.Errorf("spec.roles: ConnectionData needs role Provider")
	}
	conn, err := s.driver.connection(s, secretData)
	if err != nil {
		return nil, err
	}
	conn[KeyEngine] = []byte(s.tmpl.Engine)
	return withAddress(conn, ep.Host, ep.Port)
}

// withAddress returns a copy of conn with host, port and uri set.
func withAddress(conn map[string][]byte, host string, port int32) (map[string][]byte, error) {
	out := maps.Clone(conn)
	out[KeyHost] = []byte(host)
	out[KeyPort] = []byte(strconv.Itoa(int(port)))
	delete(out, KeyURI)
	u := url.URL{Host: net.JoinHostPort(host, strconv.Itoa(int(port)))}
	switch fleetv1alpha1.Engine(out[KeyEngine]) {
	case fleetv1alpha1.EnginePostgreSQL:
		u.Scheme = "postgresql"
		u.User = url.UserPassword(string(out[KeyUsername]), string(out[KeyPassword]))
		u.Path = "/" + string(out[KeyDatabase])
	case fleetv1alpha1.EngineRedis:
		if string(out[KeyMode]) == RedisModeSentinel {
			// No URI scheme for sentinels is common to Redis clients.
			return out, nil
		}
		u.Scheme = "redis"
		u.User = url.UserPassword("", string(out[KeyPassword]))
		u.Path = "/0"
	case fleetv1alpha1.EngineRabbitMQ:
		u.Scheme = "amqp"
		u.User = url.UserPassword(string(out[KeyUsername]), string(out[KeyPassword]))
		vhost := string(out[KeyVhost])
		u.Path = "/" + vhost
		u.RawPath = "/" + url.PathEscape(vhost)
	default:
		return nil, fmt.Errorf("connection data: unknown engine %q in key %q", out[KeyEngine], KeyEngine)
	}
	out[KeyURI] = []byte(u.String())
	return out, nil
}
