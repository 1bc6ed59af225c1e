// Package backoff computes the waits between retries of the spoke's calls to
// the hub.
//
// # Policy
//
// Exponential starts at Initial, multiplies the wait by Factor after every
// failure and never exceeds Max. Reset returns to Initial after a success.
// Jitter spreads retries of many spokes that lost the same hub at the same
// moment: each wait is drawn uniformly from [wait*(1-Jitter), wait].
//
// The cap matters more than the growth: a spoke whose hub is gone for an hour
// keeps retrying every Max, so it reconnects at most Max after the hub is
// back.
package backoff
