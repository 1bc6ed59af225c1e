package plugins

import (
	"strconv"

	fleetv1alpha1 "github.com/berth-io/berth/apis/fleet/v1alpha1"
	"github.com/berth-io/berth/placement/framework"
)

// MemberToleration tolerates a member taint.
type MemberToleration struct {
	// Key of the taint; empty with operator Exists tolerates every key.
	Key string `json:"key,omitempty"`
	// Operator is Equal (the default) or Exists.
	Operator string `json:"operator,omitempty"`
	// Value must equal the taint's value with operator Equal.
	Value string `json:"value,omitempty"`
	// Effect tolerated; empty tolerates NoPlace and PreferNoPlace.
	Effect fleetv1alpha1.TaintEffect `json:"effect,omitempty"`
}

// Toleration operators.
const (
	OperatorEqual  = "Equal"
	OperatorExists = "Exists"
)

// TaintArgs are the args of Available and PreferNoPlace.
type TaintArgs struct {
	// Tolerations of member taints.
	Tolerations []MemberToleration `json:"tolerations,omitempty"`
}

func decodeTaintArgs(raw []byte) (TaintArgs, error) {
	var a TaintArgs
	if err := framework.DecodeArgs(raw, &a); err != nil {
		return a, err
	}
	for i, t := range a.Tolerations {
		path := "args.tolerations[" + strconv.Itoa(i) + "]"
		switch t.Operator {
		case "", OperatorEqual:
			if t.Key == "" {
				return a, framework.FieldErrorf(path+".key", "must be set unless operator is Exists")
			}
		case OperatorExists:
			if t.Value != "" {
				return a, framework.FieldErrorf(path+".value", "must be empty with operator Exists")
			}
		default:
			return a, framework.FieldErrorf(path+".operator", "must be Equal or Exists, got %q", t.Operator)
		}
		switch t.Effect {
		case "", fleetv1alpha1.TaintNoPlace, fleetv1alpha1.TaintPreferNoPlace:
		default:
			return a, framework.FieldErrorf(path+".effect", "must be NoPlace or PreferNoPlace, got %q", t.Effect)
		}
	}
	return a, nil
}

// Tolerates reports whether t tolerates the taint.
func (t *MemberToleration) Tolerates(taint *fleetv1alpha1.MemberTaint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	return t.Operator == OperatorExists || t.Value == taint.Value
}

func tolerated(tols []MemberToleration, taint *fleetv1alpha1.MemberTaint) bool {
	for i := range tols {
		if tols[i].Tolerates(taint) {
			return true
		}
	}
	return false
}

// untolerated returns the first taint with the effect that tols do not
// tolerate, or nil.
func untolerated(m *framework.Member, effect fleetv1alpha1.TaintEffect, tols []MemberToleration) *fleetv1alpha1.MemberTaint {
	for i := range m.Taints {
		t := &m.Taints[i]
		if t.Effect == effect && !tolerated(tols, t) {
			return t
		}
	}
	return nil
}

func describeTaint(t *fleetv1alpha1.MemberTaint) string {
	s := t.Key
	if t.Value != "" {
		s += "=" + t.Value
	}
	s += ":" + string(t.Effect)
	if t.Reason != "" {
		s += " (" + t.Reason + ")"
	}
	return s
}
