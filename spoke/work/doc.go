// Package work is the spoke's ServiceWork controller: it renders each work of
// its hub namespace (package render), applies the result to its own cluster
// with server-side apply, and reports back in the work's status.
//
// # Apply
//
// Objects are applied with field manager berth-spoke and carry the label
// fleet.berth.io/servicework. An object that already exists without that
// label (value of this work) is never touched: the work gets Conflict=True
// naming it, and the object's result is Conflict. Create-only objects (the
// generated credentials Secret) are created once and never updated, so a
// password is generated exactly once.
//
// # Drift
//
// The member cluster's cache watches every rendered kind, restricted to
// objects carrying the servicework label, and maps each event back to its
// work. An edit or a deletion of a rendered object is therefore undone within
// seconds, without a resync timer.
//
// # Credentials
//
// A co-located work (roles Provider and Consumer) copies the engine's
// credentials into the consumer namespaces itself: they never leave the
// cluster. A provider for a remote consumer publishes the normalised
// connection data as Secret <work>.published in its hub namespace and names it
// in status.credentialsSecret; the hub copies it to the consumer's hub
// namespace, and the consumer spoke binds from that copy.
//
// # Deletion
//
// The spoke acts only on a deletion the hub asked for: a ServiceWork with a
// deletionTimestamp. A work that is merely missing from the cache (the hub is
// unreachable, or the cache is stale) never causes a deletion. With
// deletionPolicy Retain, PersistentVolumeClaims, the platform Namespace and
// the credentials Secret stay, labelled fleet.berth.io/retained=true; with
// Delete everything goes. Then the spoke reports Removed=True and the hub
// releases the work. Objects a work no longer renders (say the provider role
// moved away) are pruned under the same Retain rules.
package work
