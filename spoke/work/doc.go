// Package work realises the ServiceWorks of the spoke's hub namespace in its
// member cluster: it renders each work (package render), applies the result
// with server-side apply, keeps a record of what it applied, and reports
// back in the work's status. Setup registers three controllers on the
// hub-side manager, as OCM's work agent splits its own:
//
//   - ApplyReconciler renders, applies what differs from the record,
//     prunes what is no longer rendered, and reports Applied, Conflict,
//     status.objects and observedGeneration (moved only on success);
//   - StatusReconciler observes the engine and the binding, publishes the
//     connection data of a provider for a remote consumer, and reports
//     Available, Degraded, the endpoint, the ready replicas and
//     status.credentialsSecret;
//   - FinalizeReconciler acts on a deletion the hub asked for.
//
// Each writes the whole status with the spoke's field manager, guarded by
// the resourceVersion it read, and only when its part changed.
//
// # Ownership by record
//
// The spoke owns exactly what its record names, as OCM's
// AppliedManifestWork does. The record of a work is a ConfigMap named
// RecordName (WorkLabelValue) in the spoke's system namespace of the member
// (--system-namespace, default berth-system, created when missing),
// labelled fleet.berth.io/applied-record=true. It lists every object the
// spoke applied for the work: group, version, kind, namespace, name and UID,
// with the hash of the content last applied and the hash of the fields the
// spoke owned right after (see Drift). It lives in the member, so it
// survives a restart of the spoke with an empty cache.
//
// Only objects in the record whose live UID still matches are ever pruned,
// orphaned or deleted, with the UID as precondition. A label alone never
// makes an object deletable: the EndpointSlices the EndpointSlice controller
// labels like their Service, and the children the RabbitMQ and Spotahome
// operators label like their resource, are never touched.
//
// An object that exists with the name of a rendered one is applied only
// when it is in the record with the same UID; when it carries this work's
// fleet.berth.io/servicework label (the spoke stopped between creating and
// recording it); or when it was retained for a ManagedService of the same
// namespace, name and engine (see Adoption). An object whose controller
// ownerReference points at anything (berth sets none) is never applied nor
// deleted. Anything else is a Conflict: reported in status.objects and the
// Conflict condition, left untouched, and kept out of the record.
// Create-only objects (the generated credentials Secret) are created once
// and never updated, so a password is generated exactly once.
//
// # Platform namespaces
//
// A provider's objects live in render.PlatformNamespace, which carries a
// hash of "<namespace>/<name>" of the ManagedService, and the annotation
// fleet.berth.io/service-owner naming the ManagedService's namespace, name
// and UID. When the namespace exists and names another ManagedService,
// names none (berth did not create it), or is being deleted, the work
// stops: Applied=False and Conflict=True with reason NamespaceConflict, and
// nothing is applied, pruned or deleted anywhere.
//
// A service an older spoke created lives in render.LegacyPlatformNamespace
// (berth-<namespace>-<name>, no hash). While the hashed namespace does not
// exist and the legacy one carries this work's fleet.berth.io/servicework
// label, fleet.berth.io/platform-owned=true and the flavour annotation, the
// work keeps it (render.Inputs.PlatformNamespace): its objects, generated
// Secret, flavour and binding stay there, and it gets the owner annotation,
// so the consumers keep their data. A legacy namespace labelled for another
// work is never used.
//
// # Cache and drift
//
// Everything is read from the member cache (MemberCacheOptions: objects
// labelled fleet.berth.io/servicework, the shared PriorityClass and node
// addresses) and from a second cache of the Zalando operator's StatefulSets
// and Secrets (label team=berth), which carry none of berth's labels. A
// cache miss on a rendered name is confirmed with one live read before
// anything is created, so an unlabelled object is never taken for missing.
// The operator kinds (postgresql, RedisFailover, RabbitmqCluster) and
// CiliumNetworkPolicy are watched from the moment the member's
// capabilities report them.
//
// An object is applied again only when its rendered content hash differs
// from the record, when its UID changed, or when it drifted. Drift is a
// change of the fields the spoke owns: the hash of the live object's
// managedFields entry of field manager berth-spoke (operation Apply, main
// resource) differs from the one recorded after the last apply. Someone
// editing or removing one of those fields (kubectl edit, another applier
// forcing) changes that entry; status updates, other managers' own fields,
// and the spoke's own applies do not. Watch events are filtered the same
// way, so the spoke's own writes, operators' status updates and annotations
// others add wake nothing.
//
// # Quiet at rest
//
// A converged work causes no write: applies are skipped by hash, the record
// is written only when it changes, status and the published credentials
// only when their content changes. Every watch has a predicate: work
// updates pass only for spec (generation) or annotation changes (apply),
// those plus an Applied change (status), or a deletion (finalize); member
// events only for recorded objects that were deleted, recreated or drifted
// (apply, finalize), for Secret data (the binding's input), and for
// status, spec or data changes of what the status reads. Each work is also
// reconciled every Resync (default 10 minutes, jittered by ±20%), which
// writes nothing while nothing changed.
//
// # Credentials
//
// A co-located work (roles Provider and Consumer) copies the engine's
// credentials into the consumer namespaces itself: they never leave the
// cluster. A provider for a remote consumer publishes the normalised
// connection data as Secret <work>.published in its hub namespace and names
// it in status.credentialsSecret; the hub copies it to the consumer's hub
// namespace, and the consumer spoke binds from that copy.
//
// # Deletion
//
// The spoke acts only on a deletion the hub asked for: a ServiceWork with a
// deletionTimestamp. A work that is merely missing from the cache (the hub
// is unreachable, or the cache is stale) never causes a deletion. Then
// Removed=True says what was deleted and what was retained, status.objects
// lists each object's outcome, the record is deleted, and the hub releases
// the work. Objects a work no longer renders are pruned under the same
// rules.
//
// Under deletionPolicy Delete, everything in the record is deleted, the
// engine resource included, and Removed stays False until it is gone; the
// platform namespace goes last (its deletion is requested, the namespace
// controller finishes it). The operators then delete their children as they
// do (Zalando deletes volumes and credentials by default).
//
// Under deletionPolicy Retain (the default) the spoke orphans the data: it
// drops it from the record, removes the fleet.berth.io/servicework label,
// marks it fleet.berth.io/retained=true with the annotations
// fleet.berth.io/retained-service (the ManagedService's "<namespace>/<name>"),
// retained-engine, retained-by (the work) and retained-at, and does not
// delete it. It keeps app.kubernetes.io/managed-by=berth, which stays true:
// berth made the object and a new ManagedService takes it back. The
// PersistentVolumeClaims of a retained platform namespace (the StatefulSet
// controller's or the operator's, never berth's) get the same mark and
// nothing else, so `kubectl get pvc -A -l fleet.berth.io/retained=true`
// finds the kept data. What is kept, per flavour:
//
//   - BuiltIn: the StatefulSet (still running), its PersistentVolumeClaims
//     (the StatefulSet controller's, never berth's), the generated
//     credentials Secret, the scripts ConfigMap and the headless and client
//     Services the StatefulSet needs.
//   - Zalando: the postgresql resource, and so (since the operator only
//     deletes them when the resource goes) its StatefulSet, the pgdata-*
//     volumes and the <user>.<cluster>.credentials.* Secrets.
//   - Spotahome: the RedisFailover, rendered with
//     storage.keepAfterDeletion under Retain, its children and volumes, and
//     the generated auth Secret.
//   - RabbitMQ: the RabbitmqCluster, and so its StatefulSet, the
//     persistence-* volumes and the <name>-default-user Secret.
//
// With each engine the platform Namespace and the guard rails that fence it
// (NetworkPolicy or CiliumNetworkPolicy, ResourceQuota, LimitRange,
// PodDisruptionBudget) stay. The remote exposure Service, the app team's
// Role and RoleBinding and the consumer binding (Services, EndpointSlices,
// Secrets in the consumer namespaces) are deleted. When only a guard rail
// stops being rendered while the engine stays (a NetworkPolicy replaced by
// a CiliumNetworkPolicy), it is deleted.
//
// # Adoption
//
// A new ManagedService of the same namespace and name gets the same
// platform namespace and the same object names. Its work finds each
// retained object whose retained-service annotation names it and whose
// retained-engine matches its engine, removes the retained mark, sets its
// own servicework label, applies it and takes it into its record (the
// namespace's owner annotation then names the new ManagedService); the
// volumes in the namespace lose their retained mark. The
// flavour recorded on the namespace pins the flavour, the generated Secret
// keeps its password (it is create-only) and the operators keep the
// credentials Secrets they find, so the new service opens the old data. A
// ManagedService of another engine is refused (Conflict) rather than
// pointed at foreign data; to really drop retained data, delete the
// platform namespace.
package work
