// Package controlplane measures berth's control path against the number of
// member clusters: registration latency, propagation latency and the hub's
// memory and CPU, for the report of issue 7.
//
// # What is real and what is simulated
//
// Each fleet size runs against a fresh, real kube-apiserver and etcd (the
// envtest binaries of the tools cache) with berth's CRDs. The hub is the
// real berth-hub binary in its own process, so its resident memory and CPU
// time can be read from /proc. The spokes are simulated in this process,
// because a fleet of a thousand member apiservers does not fit on one
// machine:
//
//   - a simulated spoke starts when the hub has issued its member's
//     credentials (the Secret hub-kubeconfig in the member's hub namespace)
//     and talks to the hub only with those credentials, so every write
//     passes the member's real, namespace-scoped RBAC;
//   - it runs the spoke's real Lease renewer (package spoke/lease) and
//     status reporter (package spoke/report), with an inventory of one node
//     pool;
//   - instead of rendering into a member cluster, it answers each
//     ServiceWork the way berth-spoke does once the operator reports the
//     service up: Applied and Available conditions, ready replicas, the
//     endpoint, and for a provider whose consumer is elsewhere the
//     published connection Secret; a consumer becomes Available once the
//     hub has copied the provider's endpoint and credentials to it.
//
// A real spoke adds the member apiserver's and the operator's time on top;
// the e2e test TestPropagationLatency measures that on the local fleet.
//
// # Measurements per size N
//
//   - Registration: N MemberClusters (one Management, every tenth a
//     Services member, the rest Workload) are created at once; the latency
//     of each is creation to Available=True, which needs the hub to create
//     the member's namespace, identity and credentials and the spoke to
//     renew its Lease.
//   - Propagation: S ManagedServices (strategies Workload, Management and
//     Dedicated in turn; engines PostgreSQL, Redis and RabbitMQ in turn;
//     consumers spread over the Workload members) are created at once; the
//     series "propagated" ends at Propagated=True (every ServiceWork
//     Applied) and "propagation" at Ready=True.
//   - Hub: resident memory when idle, after registration and after
//     propagation, its peak (VmHWM), and its CPU seconds.
//
// Run writes these into results.ControlPlane; `berthctl bench controlplane`
// writes controlplane.json and the report.
package controlplane
