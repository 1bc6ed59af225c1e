// Package ssa applies typed objects with server-side apply.
//
// # Why
//
// Several controllers write parts of one object: the placement and
// propagation controllers share ManagedService status, and the hub and the
// spoke share MemberCluster status. Server-side apply merges their writes per
// field manager, where a merge patch would replace whole lists (conditions
// among them). The helpers here turn typed objects into apply patches that
// carry only what the caller set.
package ssa
