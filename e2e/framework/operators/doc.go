// Package operators installs the three database operators berth drives
// (Zalando postgres-operator, Spotahome redis-operator, RabbitMQ
// cluster-operator) into a test cluster and emulates them: small
// controllers that behave like the real operators on every point berth
// depends on, so the spoke's apply, prune, Retain and Delete paths meet
// realistic behaviour on the local fleet (real kube-apiserver and
// kube-controller-manager, kwok nodes). Every behaviour carries a comment
// naming the operator source file (and function) it follows, in
// zalando/postgres-operator a7aaad0a, spotahome/redis-operator 632aa3da and
// rabbitmq/cluster-operator 06cda8e8.
//
// # API
//
//   - Install(ctx, c, ops...) installs operators as their official
//     manifests do: the CRD (CRD, from crds/), a namespace, a ServiceAccount,
//     a ClusterRole with the manifest's rules (write verbs on the CRD's
//     group among them), a ClusterRoleBinding and a Deployment running under
//     the ServiceAccount. Idempotent (server-side apply). InstallationOf
//     says where each one lives: postgres-operator, redis-operator and
//     rabbitmq-system.
//   - Run(ctx, cfg, opts) runs the emulators until ctx ends; Start runs it
//     in the background and returns a stop function. Each emulator waits
//     until its operator is installed, then acts as the operator's
//     ServiceAccount (impersonation), so the installed ClusterRole is what
//     it may do.
//   - Options: which operators, one namespace or all, Zalando's
//     enable_persistent_volume_claim_deletion and enable_secrets_deletion
//     (ZalandoKeepVolumes, ZalandoKeepSecrets), Spotahome's resync period,
//     RabbitMQ's requeue period. The zero value is the operators' defaults.
//   - CRDDir holds the minimal structural CRDs of postgresql, RedisFailover,
//     RabbitmqCluster and CiliumNetworkPolicy; spoke/render's tests install
//     them from there.
//
// # Zalando postgresql (acid.zalan.do/v1)
//
// StatefulSet N with claim template pgdata (PVCs pgdata-N-<i>), Services N
// and N-repl (port 5432, selectors on spilo-role), PodDisruptionBudgets
// postgres-N-pdb and postgres-N-critical-op-pdb, and Secrets
// <user>.N.credentials.postgresql.acid.zalan.do (`_` becomes `-`) with
// username and password for postgres, standby and each spec.users entry; an
// existing Secret keeps its password. Children carry application=spilo,
// cluster-name=N and team=<teamId>, never the resource's labels, and copy
// the resource's own ownerReferences (the operator adds none). Pods get
// spilo-role=master (the first) or replica, as Patroni sets it. Status
// PostgresClusterStatus is Creating, then Running once the StatefulSet has
// all replicas ready and every pod a role. Per namespace it creates the
// ServiceAccount and RoleBinding postgres-pod and never deletes them. There
// is no finalizer: when the resource is gone it deletes the StatefulSet, the
// pods, the Services, the PodDisruptionBudgets and, by default, the PVCs
// and the credentials Secrets (the operator defaults
// enable_persistent_volume_claim_deletion and enable_secrets_deletion are
// true); it only deletes clusters it has seen, as the operator acts on the
// delete event of a cluster it knows.
//
// # Spotahome RedisFailover (databases.spotahome.com/v1)
//
// StatefulSet rfr-N, Deployment rfs-N, Services rfs-N (26379), rfrm-N and
// rfrs-N, ConfigMaps rfs-N, rfr-N (with the password of the spec.auth.secretPath
// Secret's key password), rfr-s-N and rfr-readiness-N, PodDisruptionBudgets
// rfr-N and rfs-N. Every child carries every label of the resource (or
// those labelWhitelist matches), app.kubernetes.io/managed-by=redis-operator
// unless the resource sets it, redisfailovers.databases.spotahome.com/name=N
// and app.kubernetes.io/{name,component,part-of}, and a controller
// ownerReference; the claim template carries it too unless
// storage.keepAfterDeletion, so the garbage collector deletes the PVCs. No
// status is written. Once all Redis pods run, they get
// redisfailovers-role=master or slave. Names longer than 48 characters are
// rejected. Every resync (30s, Options.SpotahomeResync) replaces each child
// with a full Update, wiping labels and annotations others added.
//
// # RabbitMQ RabbitmqCluster (rabbitmq.com/v1beta1)
//
// StatefulSet N-server (claim template persistence, claim retention
// whenDeleted=Delete), Services N and N-nodes, Secrets N-default-user
// (username, password, host, port, connection_string, default_user.conf
// ...; an existing one keeps its credentials) and N-erlang-cookie,
// ConfigMaps N-server-conf and N-plugins-conf, ServiceAccount N-server and,
// while the version is unknown or below 4.1.0, Role N-peer-discovery and
// RoleBinding N-server. Children carry app.kubernetes.io/{name,component,
// part-of} plus the resource's labels except app.kubernetes.io/*, reset on
// every reconcile (ConfigMaps at creation only); pods and PVCs only the
// three app labels. Every child but the PVCs has a controller
// ownerReference. The finalizer deletion.finalizers.rabbitmqclusters.rabbitmq.com
// is added, and removed on deletion after labelling the pods
// skipPreStopChecks; the garbage collector deletes the children and the
// real StatefulSet controller the PVCs. Status has AllReplicasReady,
// ClusterAvailable, NoWarnings and ReconcileSuccess; ReconcileSuccess=True,
// observedGeneration and the annotation rabbitmq.com/version come only once
// the StatefulSet is ready; defaultUser.secretReference names the
// credentials; ClusterAvailable reads the client Service's EndpointSlices.
// A scale-down is refused.
//
// # What is not emulated
//
// Anything inside the pods (Patroni's own Services and leader election,
// Redis replication and sentinels, RabbitMQ's management API), Zalando's
// database roles, logical backups and connection pooler, Spotahome's
// exporters and custom configuration, and the RabbitMQ webhook (spec.image
// defaults in the emulator instead).
package operators
