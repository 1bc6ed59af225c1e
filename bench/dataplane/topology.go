package dataplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-io/berth/bench/linkemu"
	"github.com/berth-io/berth/bench/netlab"
	"github.com/berth-io/berth/bench/results"
)

// Addresses inside the lab's own namespaces (10.201.0.0/16; nothing outside
// the namespaces is ever addressed).
const (
	workloadCIDR = "10.201.1.0/24"
	appIP        = "10.201.1.10"
	workloadSvc  = "10.201.1.20"
)

// remoteCluster is the plan of a cluster reached through a gateway.
type remoteCluster struct {
	placement results.Placement
	role      string // namespace role prefix
	linkIP    string // the link's address on the workload network
	p2pNet    string // link <-> gateway
	p2pLink   string
	p2pGW     string
	netPrefix string // the cluster's own network, /24
}

var remotePlans = []remoteCluster{
	{placement: results.PlacementManagement, role: "mgmt", linkIP: "10.201.1.31", p2pNet: "10.201.12.0/30", p2pLink: "10.201.12.1", p2pGW: "10.201.12.2", netPrefix: "10.201.2"},
	{placement: results.PlacementDedicated, role: "svcs", linkIP: "10.201.1.32", p2pNet: "10.201.13.0/30", p2pLink: "10.201.13.1", p2pGW: "10.201.13.2", netPrefix: "10.201.3"},
}

// remote is a built remote cluster.
type remote struct {
	plan    remoteCluster
	link    *netlab.NetNS
	gateway *netlab.NetNS
	network *netlab.NetNS // holds the cluster's bridge
	service *netlab.NetNS
	haproxy *netlab.Process
	relays  []*linkemu.Relay
}

// Topology is the benchmark's network: the workload cluster with the app
// and a co-located service namespace, and two remote clusters
// (management, services), each behind an emulated link and an HAProxy
// gateway.
type Topology struct {
	lab      *netlab.Lab
	app      *netlab.NetNS
	workload *netlab.NetNS
	remotes  []*remote
	ports    []int
	netem    bool
	profile  linkemu.Profile
}

// buildTopology creates every namespace, bridge and link, and starts the
// gateways for ports.
func buildTopology(ctx context.Context, lab *netlab.Lab, ports []int) (*Topology, error) {
	t := &Topology{lab: lab, ports: ports}
	wlNet, err := lab.Namespace(ctx, "wl-net")
	if err != nil {
		return nil, err
	}
	if err := lab.Bridge(ctx, wlNet, "br0"); err != nil {
		return nil, err
	}
	if t.app, err = lab.Namespace(ctx, "wl-app"); err != nil {
		return nil, err
	}
	if err := lab.Attach(ctx, t.app, "eth0", appIP+"/24", wlNet, "br0", "p-app"); err != nil {
		return nil, err
	}
	if t.workload, err = lab.Namespace(ctx, "wl-svc"); err != nil {
		return nil, err
	}
	if err := lab.Attach(ctx, t.workload, "eth0", workloadSvc+"/24", wlNet, "br0", "p-svc"); err != nil {
		return nil, err
	}
	t.netem = linkemu.NetemAvailable(ctx, wlNet.Name)

	for _, plan := range remotePlans {
		r := &remote{plan: plan}
		if r.link, err = lab.Namespace(ctx, plan.role+"-link"); err != nil {
			return nil, err
		}
		if err := lab.Attach(ctx, r.link, "eth0", plan.linkIP+"/24", wlNet, "br0", "p-"+plan.role); err != nil {
			return nil, err
		}
		if r.gateway, err = lab.Namespace(ctx, plan.role+"-gw"); err != nil {
			return nil, err
		}
		if err := lab.Veth(ctx, r.link, "eth1", plan.p2pLink+"/30", r.gateway, "eth0", plan.p2pGW+"/30"); err != nil {
			return nil, err
		}
		if err := lab.Forward(ctx, r.link); err != nil {
			return nil, err
		}
		// The app reaches the gateway's ingress address only through the link.
		if err := lab.Route(ctx, t.app, plan.p2pNet, plan.linkIP); err != nil {
			return nil, err
		}
		if err := lab.Route(ctx, r.gateway, workloadCIDR, plan.p2pLink); err != nil {
			return nil, err
		}
		if r.network, err = lab.Namespace(ctx, plan.role+"-net"); err != nil {
			return nil, err
		}
		if err := lab.Bridge(ctx, r.network, "br0"); err != nil {
			return nil, err
		}
		if err := lab.Attach(ctx, r.gateway, "eth1", plan.netPrefix+".2/24", r.network, "br0", "p-gw"); err != nil {
			return nil, err
		}
		if r.service, err = lab.Namespace(ctx, plan.role+"-svc"); err != nil {
			return nil, err
		}
		if err := lab.Attach(ctx, r.service, "eth0", plan.netPrefix+".20/24", r.network, "br0", "p-svc"); err != nil {
			return nil, err
		}
		if r.haproxy, err = startHAProxy(ctx, lab, r, ports, "haproxy-"+plan.role); err != nil {
			return nil, err
		}
		t.remotes = append(t.remotes, r)
	}
	return t, nil
}

// startHAProxy runs HAProxy in TCP mode in the gateway namespace: one
// frontend per port on the ingress address, one backend server each. name
// labels the process and its log.
func startHAProxy(ctx context.Context, lab *netlab.Lab, r *remote, ports []int, name string) (*netlab.Process, error) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		return nil, errors.New("haproxy not found: the gateways need it (install it with hack/bench/setup.sh or apt-get install haproxy)")
	}
	var b strings.Builder
	b.WriteString(`global
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
`)
	for _, p := range ports {
		fmt.Fprintf(&b, "listen port%d\n  bind %s:%d\n  server svc %s.20:%d\n", p, r.plan.p2pGW, p, r.plan.netPrefix, p)
	}
	cfg := filepath.Join(lab.WorkDir, "haproxy-"+r.plan.role+".cfg")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("writing HAProxy configuration: %w", err)
	}
	p, err := lab.Start(r.gateway, netlab.ProcessSpec{Name: name, Argv: []string{"haproxy", "-db", "-f", cfg}})
	if err != nil {
		return nil, err
	}
	err = p.WaitReady(ctx, 15*time.Second, func(ctx context.Context) error {
		c, err := r.gateway.DialContext(ctx, "tcp", fmt.Sprintf("%s:%d", r.plan.p2pGW, ports[0]))
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// SetProfile switches the inter-cluster links to p: kernel netem where
// available, otherwise user-space relays; profile 0 routes plainly.
func (t *Topology) SetProfile(ctx context.Context, p linkemu.Profile) error {
	t.profile = p
	for _, r := range t.remotes {
		for _, rl := range r.relays {
			_ = rl.Close()
		}
		r.relays = nil
		if t.netem {
			for _, ifname := range []string{"eth0", "eth1"} {
				if err := linkemu.ApplyNetem(ctx, r.link.Name, ifname, p); err != nil {
					return err
				}
			}
			continue
		}
		if !p.Delayed() {
			continue
		}
		for _, port := range t.ports {
			ln, err := r.link.Listen(ctx, "tcp", fmt.Sprintf("%s:%d", r.plan.linkIP, port))
			if err != nil {
				return err
			}
			r.relays = append(r.relays, linkemu.NewRelay(ln, r.link.DialContext, fmt.Sprintf("%s:%d", r.plan.p2pGW, port), p))
		}
	}
	return nil
}

// Emulation names how the current profile is applied.
func (t *Topology) Emulation() string {
	switch {
	case !t.profile.Delayed():
		return "none"
	case t.netem:
		return "netem"
	default:
		return "userspace-relay"
	}
}

// Endpoint returns where a client dials from, and the address it dials, to
// reach the engine on port at placement p.
func (t *Topology) Endpoint(p results.Placement, port int) (DialFunc, string, error) {
	switch p {
	case results.PlacementBaseline:
		return t.workload.DialContext, fmt.Sprintf("127.0.0.1:%d", port), nil
	case results.PlacementWorkload:
		return t.app.DialContext, fmt.Sprintf("%s:%d", workloadSvc, port), nil
	}
	for _, r := range t.remotes {
		if r.plan.placement != p {
			continue
		}
		if len(r.relays) > 0 {
			return t.app.DialContext, fmt.Sprintf("%s:%d", r.plan.linkIP, port), nil
		}
		return t.app.DialContext, fmt.Sprintf("%s:%d", r.plan.p2pGW, port), nil
	}
	return nil, "", fmt.Errorf("unknown placement %q", p)
}

// ServiceNamespaces maps each server instance name to its namespace; the
// baseline shares the workload instance.
func (t *Topology) ServiceNamespaces() map[results.Placement]*netlab.NetNS {
	m := map[results.Placement]*netlab.NetNS{results.PlacementWorkload: t.workload}
	for _, r := range t.remotes {
		m[r.plan.placement] = r.service
	}
	return m
}

// Paths describes what a request crosses at each placement.
func (t *Topology) Paths() map[results.Placement]string {
	link := "routed link (no added delay)"
	switch t.Emulation() {
	case "netem":
		link = fmt.Sprintf("link with netem %s ± %s each way", t.profile.OneWay, t.profile.Jitter)
	case "userspace-relay":
		link = fmt.Sprintf("link with user-space relay %s ± %s each way", t.profile.OneWay, t.profile.Jitter)
	}
	remote := "app → workload bridge → " + link + " → HAProxy gateway (TCP) → cluster bridge → server"
	return map[results.Placement]string{
		results.PlacementBaseline:   "client and server in one namespace (loopback)",
		results.PlacementWorkload:   "app → workload bridge → server",
		results.PlacementManagement: remote,
		results.PlacementDedicated:  remote,
	}
}

// Close stops the relays; the lab removes the rest.
func (t *Topology) Close() {
	for _, r := range t.remotes {
		for _, rl := range r.relays {
			_ = rl.Close()
		}
	}
}
