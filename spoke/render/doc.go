// Package render is the pure rendering layer of the spoke: it turns a
// ServiceWork and what the spoke knows about its member cluster into the
// objects to server-side apply, and reads a service's state back from its
// live objects. It performs no I/O; the apply layer fetches, applies and
// reports.
//
// # Entry points
//
//   - Render(Inputs) renders every object of a work, in apply order.
//   - ProviderStatus(ctx, Inputs, Getter) maps the live objects of a
//     provider to readiness, ready replicas, the endpoint reachable from the
//     consumer cluster and the credentials Secret.
//   - ConnectionData(Inputs, secretData, endpoint) normalises the
//     credentials Secret for the consumer binding and for publishing to the
//     hub.
//   - BindingStatus(ctx, Inputs, Getter) says whether the consumer binding
//     exists.
//
// # Apply loop
//
// A provider spoke renders, applies, and reads the state back:
//
//  1. Render(in) and apply res.Objects in order (field manager FieldManager;
//     objects for which CreateOnly is true only when missing).
//  2. ProviderStatus(ctx, in, getter) gives readiness, the endpoint and the
//     credentials Secret; read that Secret.
//  3. ConnectionData(in, secret.Data, *obs.Endpoint) gives the normalised
//     connection data: publish it to the hub for a remote consumer, or set it
//     as in.Connection and render again to complete a co-located binding
//     (Result.Pending lists what is still missing).
//
// # Roles and placement
//
// A ServiceWork with role Provider renders the service and its guard rails;
// role Consumer renders the binding in the consumer namespaces. A co-located
// service (spec.consumer.cluster is this member) gets one work with both
// roles, and its credentials never leave the cluster. While a service moves
// to its consumer's cluster, that work carries both roles but its
// spec.provider still names the old provider (BindsLocally is false): the
// new provider is rendered here and the binding stays remote until the hub
// switches spec.provider to this member.
//
// # Flavours
//
// Each engine has one driver per flavour, chosen by SelectFlavour from the
// operators the member reports, with a built-in fallback:
//
//   - PostgreSQL: a Zalando `postgresql` (acid.zalan.do/v1) named
//     "berth-<service>" (the name must start with "<teamId>-"; the teamId is
//     "berth"), ready when status.PostgresClusterStatus is Running; the
//     credentials are in "app.berth-<service>.credentials.postgresql.acid.zalan.do".
//   - Redis: a Spotahome `RedisFailover` (databases.spotahome.com/v1) with
//     three sentinels and a generated auth Secret; it has no status, so
//     readiness is read from the rfr-<service> StatefulSet and the
//     rfs-<service> Deployment. Co-located clients use the sentinels on
//     rfs-<service>:26379.
//   - RabbitMQ: a `RabbitmqCluster` (rabbitmq.com/v1beta1), ready when the
//     ClusterAvailable and AllReplicasReady conditions are True; the
//     credentials are in "<service>-default-user".
//   - Built-in: a StatefulSet (postgres, redis or rabbitmq images), a headless
//     and a client Service, a start-scripts ConfigMap and a generated
//     credentials Secret; ready when all replicas are ready.
//
// The flavour is recorded on the platform Namespace (AnnotationFlavour);
// pass it back as Inputs.Flavour so that installing an operator later never
// moves a running service.
//
// # Generated credentials
//
// Passwords berth generates live in the Secret GeneratedSecretName. The
// renderer generates a password exactly once: the apply layer passes the
// live Secret's data as Inputs.GeneratedCredentials and existing keys are
// kept. As a second line, the Secret is annotated create-only
// (AnnotationCreateOnly): the apply layer creates it when missing and never
// updates it.
//
// # Naming
//
// Provider objects live in the platform namespace PlatformNamespace,
// "berth-<namespace>-<name>-<hash>" of the ManagedService (the readable part
// cut so the whole fits in 63 characters), or in the one Inputs.PlatformNamespace
// names: LegacyPlatformNamespace, the unhashed name older spokes used, for a
// service whose data already lives there. Every rendered object carries
// fleet.berth.io/servicework=<work namespace>.<work name> (hashed the same
// way past 63 characters) and app.kubernetes.io/managed-by=berth; provider
// objects also carry fleet.berth.io/platform-owned=true. The PriorityClass
// is shared and carries LabelShared instead of the work label.
//
// # Guard rails
//
// Around every provider service: the platform Namespace; a NetworkPolicy, or
// a CiliumNetworkPolicy when the member runs Cilium, allowing ingress from
// the namespace itself on every port (replication and clustering between
// the engine's own pods), the namespaces of the flavour's operator
// (Inputs.OperatorNamespaces) on exactly the ports its source dials
// (Zalando: 5432 and Patroni's 8008; Spotahome: 6379 and 26379; RabbitMQ:
// management 15672; built-in: no operator), the monitoring namespaces
// (Inputs.MonitoringNamespaces) on the metrics ports (Patroni 8008 for
// Zalando, rabbitmq_prometheus 15692 for RabbitMQ, none for the others),
// and the consumers (their namespaces when co-located, the exposure path
// when remote, and the consumer's Cilium cluster with ClusterMesh), with
// egress left open; a ResourceQuota sized from replicas x resources plus
// one spare pod, volumes x size and the exposure's Services; a LimitRange
// defaulting unsized containers and capping volumes; the PriorityClass
// berth-managed-service; a PodDisruptionBudget when
// replicas > 1 and the operator keeps none; the node pool's tolerations and
// selector on every pod; and a Role and RoleBinding giving the app team
// (group AppTeamGroup of each consumer namespace, plus the namespaces'
// default ServiceAccounts when co-located) get on the credentials Secret
// and the status objects.
//
// # Exposure and binding
//
// A provider with a remote consumer renders the Service ExposureServiceName:
// a Cilium global service with ClusterMesh, else a LoadBalancer when the
// member has one, else a NodePort. In each consumer namespace the app finds
// the Service "<service>" and the Secret "<service>-credentials", whatever
// the placement: an ExternalName alias when co-located or for a hostname
// endpoint, a selector-less Service with an EndpointSlice for an IP endpoint,
// or an alias to a global-service stub with ClusterMesh.
package render
