package v1alpha1

// Condition types. Each kind documents which of them it sets.
const (
	// ConditionRegistered is set on a MemberCluster once the hub has created
	// its hub namespace, identity and RBAC.
	ConditionRegistered = "Registered"
	// ConditionJoined is set on a MemberCluster once its spoke has connected
	// and reported.
	ConditionJoined = "Joined"
	// ConditionAvailable is set on a MemberCluster while its spoke's Lease is
	// fresh, and on a ServiceWork while the rendered service is serving.
	ConditionAvailable = "Available"

	// ConditionPlaced is set on a ManagedService once a cluster was chosen.
	ConditionPlaced = "Placed"
	// ConditionPropagated is set on a ManagedService once every ServiceWork
	// it needs was applied by its spoke at the current generation.
	ConditionPropagated = "Propagated"
	// ConditionReady is set on a ManagedService when the engine reports
	// ready and the consumer binding exists.
	ConditionReady = "Ready"
	// ConditionMoving is set on a ManagedService whose placement names
	// another cluster than the provider its consumers use. It is True while
	// the move waits for the new provider, for the acknowledgement
	// (AnnotationAcceptMove) or for the old provider's removal, and False
	// (reason MoveCompleted or MoveCancelled) afterwards. It is absent for a
	// service that never moved.
	ConditionMoving = "Moving"

	// ConditionApplied is set on a ServiceWork once every rendered object
	// was applied.
	ConditionApplied = "Applied"
	// ConditionDegraded is set on a ServiceWork when the service runs with
	// fewer ready replicas than requested.
	ConditionDegraded = "Degraded"
	// ConditionConflict is set on a ServiceWork when an object it would
	// render already exists and is not owned by berth.
	ConditionConflict = "Conflict"

	// ConditionRemoved is set on a ServiceWork being deleted once its spoke
	// removed what it rendered (keeping what deletionPolicy Retain keeps).
	// The hub then drops FinalizerWork.
	ConditionRemoved = "Removed"

	// ConditionAccepted is set on a PlacementPolicy when it is usable, and
	// False when it is not (for example a second default policy).
	ConditionAccepted = "Accepted"
)

// Condition reasons.
const (
	// ReasonClusterProvisioned means the CAPI Cluster's control plane is
	// initialized and its kubeconfig Secret exists.
	ReasonClusterProvisioned = "ClusterProvisioned"
	// ReasonClusterNotReady means the CAPI Cluster's control plane is not
	// initialized yet.
	ReasonClusterNotReady = "ClusterNotReady"
	// ReasonKubeconfigMissing means the <name>-kubeconfig Secret is absent.
	ReasonKubeconfigMissing = "KubeconfigMissing"
	// ReasonKubeconfigInvalid means the <name>-kubeconfig Secret cannot be
	// parsed.
	ReasonKubeconfigInvalid = "KubeconfigInvalid"
	// ReasonClusterPaused means the CAPI Cluster is paused.
	ReasonClusterPaused = "ClusterPaused"
	// ReasonClusterDeleting means the CAPI Cluster is being deleted.
	ReasonClusterDeleting = "ClusterDeleting"
	// ReasonNotAccepted means a manually joined member awaits `berthctl accept`.
	ReasonNotAccepted = "NotAccepted"
	// ReasonAgentConnected means the spoke reported.
	ReasonAgentConnected = "AgentConnected"
	// ReasonLeaseFresh means the spoke's Lease was renewed in time.
	ReasonLeaseFresh = "LeaseFresh"
	// ReasonLeaseExpired means the spoke's Lease is older than its duration
	// times the grace factor.
	ReasonLeaseExpired = "LeaseExpired"
	// ReasonUnreachable is the reason of the NoPlace taint the hub adds to an
	// unavailable member.
	ReasonUnreachable = "Unreachable"
	// ReasonIdentityIssued means the hub created the member's hub namespace,
	// identity, RBAC and credentials (used for manually joined members;
	// members from CAPI report ReasonClusterProvisioned).
	ReasonIdentityIssued = "IdentityIssued"
	// ReasonRegistrationFailed means the hub could not create or update the
	// member's hub namespace, identity, RBAC, credentials or spoke install.
	ReasonRegistrationFailed = "RegistrationFailed"
	// ReasonDraining means the member is being deleted and waits for the
	// ServiceWorks in its hub namespace to be removed.
	ReasonDraining = "Draining"
	// ReasonLeaseMissing means the spoke has not created its Lease yet.
	ReasonLeaseMissing = "LeaseMissing"

	// ReasonScheduled means a cluster was chosen.
	ReasonScheduled = "Scheduled"
	// ReasonUnschedulable means no cluster passed the filters.
	ReasonUnschedulable = "Unschedulable"
	// ReasonFallback means the service was placed by a fallback strategy its
	// policy allows.
	ReasonFallback = "Fallback"
	// ReasonPolicyNotFound means spec.placement.policyRef names no policy.
	ReasonPolicyNotFound = "PolicyNotFound"
	// ReasonPolicyInvalid means the referenced policy cannot be used.
	ReasonPolicyInvalid = "PolicyInvalid"
	// ReasonMultipleDefaults means more than one policy sets spec.default.
	ReasonMultipleDefaults = "MultipleDefaults"
	// ReasonValid means the policy was decoded and its plugins exist.
	ReasonValid = "Valid"

	// ReasonWorkPending means a ServiceWork was written but not yet applied.
	ReasonWorkPending = "WorkPending"
	// ReasonWorkApplied means every object was applied.
	ReasonWorkApplied = "WorkApplied"
	// ReasonApplyFailed means at least one object failed to apply.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonObjectConflict means an unowned object blocks rendering.
	ReasonObjectConflict = "ObjectConflict"
	// ReasonNamespaceConflict means the work's platform namespace exists
	// and belongs to another ManagedService (or to nobody berth knows); the
	// spoke applies nothing into it.
	ReasonNamespaceConflict = "NamespaceConflict"
	// ReasonEngineReady means the engine reports ready.
	ReasonEngineReady = "EngineReady"
	// ReasonEngineNotReady means the engine does not report ready yet.
	ReasonEngineNotReady = "EngineNotReady"
	// ReasonBindingMissing means the consumer binding does not exist yet.
	ReasonBindingMissing = "BindingMissing"

	// ReasonMoveWaitingForTarget (Moving=True) means the new provider's
	// ServiceWork is not Available yet (or, for a remote consumer, has not
	// published its endpoint and credentials); consumers keep the old one.
	ReasonMoveWaitingForTarget = "MoveWaitingForTarget"
	// ReasonMoveWaitingForAcknowledgement (Moving=True) means the new
	// provider is Available and the move waits for AnnotationAcceptMove
	// naming the target cluster; consumers keep the old provider.
	ReasonMoveWaitingForAcknowledgement = "MoveWaitingForAcknowledgement"
	// ReasonMoveRemovingOldProvider (Moving=True) means consumers were
	// switched to the new provider and the old provider's ServiceWork is
	// being removed (after the consumer spoke applied the switch; its spoke
	// then honours deletionPolicy).
	ReasonMoveRemovingOldProvider = "MoveRemovingOldProvider"
	// ReasonMoveCompleted (Moving=False) means consumers use the new
	// provider and the old provider's ServiceWork is gone.
	ReasonMoveCompleted = "MoveCompleted"
	// ReasonMoveCancelled (Moving=False) means the placement went back to
	// the provider the consumers use before the move completed; the unused
	// new provider is removed.
	ReasonMoveCancelled = "MoveCancelled"
)

// TaintKeyUnreachable is the key of the NoPlace taint the hub adds to a
// member whose Lease expired.
const TaintKeyUnreachable = "fleet.berth.io/unreachable"

// Well-known labels and annotations.
const (
	// LabelRole on a CAPI Cluster sets the member's role (default Workload).
	LabelRole = "fleet.berth.io/role"
	// AnnotationMemberName on a CAPI Cluster sets the member's name.
	AnnotationMemberName = "fleet.berth.io/member-name"
	// AnnotationReplace on a ManagedService asks the hub to place it again.
	// Its value is free text recorded in an Event. A new cluster starts a
	// move (see AnnotationAcceptMove); nothing is removed by the request.
	AnnotationReplace = "fleet.berth.io/replace"
	// AnnotationAcceptMove on a ManagedService acknowledges a move: its
	// value must be the name of the move's target cluster (the Moving
	// condition names it), meaning "I accept an empty database on that
	// cluster". Once the new provider is Available and this annotation names
	// it, the hub switches the consumers to the new provider, then deletes
	// the old provider's ServiceWork (its spoke honours deletionPolicy), then
	// removes the annotation. A value naming another cluster is ignored and
	// reported (Moving message and a MoveAcknowledgementIgnored Event), so a
	// stale acknowledgement cannot approve a different move. It may be set
	// before the move starts.
	AnnotationAcceptMove = "fleet.berth.io/accept-move"
	// AnnotationSpecHash on a ServiceWork is the hash of everything the hub
	// applied (labels, annotations, finalizers and spec). The hub applies a
	// work only when its desired hash differs from this one.
	AnnotationSpecHash = "fleet.berth.io/spec-hash"
	// AnnotationPlacementStrategy on a provider ServiceWork records the
	// strategy of the placement decision the work realises.
	AnnotationPlacementStrategy = "fleet.berth.io/placement-strategy"
	// AnnotationPlacementPolicy on a provider ServiceWork records the
	// PlacementPolicy of that decision, if any.
	AnnotationPlacementPolicy = "fleet.berth.io/placement-policy"
	// AnnotationDecidedAt on a provider ServiceWork records when that
	// decision was made (RFC 3339).
	AnnotationDecidedAt = "fleet.berth.io/decided-at"
	// LabelServiceWork is set on every object a spoke renders; its value is
	// ServiceLabelValue of the ManagedService the owning ServiceWork realises
	// (a spoke only handles works of its own hub namespace, so this names
	// the work). The annotation of the same key holds the full work name.
	LabelServiceWork = "fleet.berth.io/servicework"
	// LabelManagedService on a ServiceWork names its ManagedService, with
	// the value ServiceLabelValue(namespace, name).
	LabelManagedService = "fleet.berth.io/managedservice"
	// LabelMember on hub objects names the member cluster they belong to.
	LabelMember = "fleet.berth.io/member"
	// LabelRetained marks objects kept after their service was deleted with
	// deletionPolicy Retain.
	LabelRetained = "fleet.berth.io/retained"
	// FinalizerMember keeps a MemberCluster until its ServiceWorks drained.
	FinalizerMember = "fleet.berth.io/member"
	// FinalizerService keeps a ManagedService until its ServiceWorks are gone.
	FinalizerService = "fleet.berth.io/managedservice"
	// FinalizerWork keeps a ServiceWork until its spoke cleaned up. The hub
	// sets it and removes it once the spoke reports Removed=True, so the
	// spoke needs no write access to ServiceWorks beyond their status.
	FinalizerWork = "fleet.berth.io/servicework"
	// AnnotationJoinedBy on a manually joined MemberCluster names the
	// identity (a `berthctl join token` ServiceAccount) that created it.
	AnnotationJoinedBy = "fleet.berth.io/joined-by"
)
