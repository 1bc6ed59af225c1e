package backoff

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Defaults used when a field of Exponential is zero.
const (
	DefaultInitial = 500 * time.Millisecond
	DefaultMax     = 30 * time.Second
	DefaultFactor  = 2.0
)

// Exponential is a capped exponential backoff. The zero value uses the
// defaults and no jitter. It is not safe for concurrent use: each retry loop
// owns its own.
type Exponential struct {
	// Initial is the first wait.
	Initial time.Duration
	// Max caps every wait.
	Max time.Duration
	// Factor multiplies the wait after each failure; it must be >= 1.
	Factor float64
	// Jitter in [0, 1) shortens each wait by a random fraction of at most
	// Jitter.
	Jitter float64

	next     time.Duration
	failures int
}

// Validate reports the first field that makes the backoff unusable.
func (b *Exponential) Validate() error {
	switch {
	case b.Initial < 0:
		return fmt.Errorf("backoff initial must not be negative, got %s", b.Initial)
	case b.Max < 0:
		return fmt.Errorf("backoff max must not be negative, got %s", b.Max)
	case b.Initial > 0 && b.Max > 0 && b.Initial > b.Max:
		return fmt.Errorf("backoff initial %s must not exceed backoff max %s", b.Initial, b.Max)
	case b.Factor != 0 && b.Factor < 1:
		return fmt.Errorf("backoff factor must be >= 1, got %v", b.Factor)
	case b.Jitter < 0 || b.Jitter >= 1:
		return fmt.Errorf("backoff jitter must be in [0, 1), got %v", b.Jitter)
	}
	return nil
}

func (b *Exponential) params() (initial, maxWait time.Duration, factor float64) {
	initial, maxWait, factor = b.Initial, b.Max, b.Factor
	if initial <= 0 {
		initial = DefaultInitial
	}
	if maxWait <= 0 {
		maxWait = DefaultMax
	}
	if initial > maxWait {
		initial = maxWait
	}
	if factor < 1 {
		factor = DefaultFactor
	}
	return initial, maxWait, factor
}

// Next records a failure and returns how long to wait before the next try.
func (b *Exponential) Next() time.Duration {
	initial, maxWait, factor := b.params()
	wait := b.next
	if wait <= 0 {
		wait = initial
	}
	// Grow in float64 and clamp before converting back, so a long outage
	// cannot overflow time.Duration.
	grown := float64(wait) * factor
	if grown > float64(maxWait) {
		b.next = maxWait
	} else {
		b.next = time.Duration(grown)
	}
	if wait > maxWait {
		wait = maxWait
	}
	b.failures++
	if b.Jitter > 0 {
		wait -= time.Duration(rand.Float64() * b.Jitter * float64(wait))
	}
	return wait
}

// Failures is the number of Next calls since the last Reset.
func (b *Exponential) Failures() int {
	return b.failures
}

// Reset records a success: the next failure waits Initial again.
func (b *Exponential) Reset() {
	b.next = 0
	b.failures = 0
}
