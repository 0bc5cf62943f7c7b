package manifest

import (
	"fmt"
)

// Hop kinds.
const (
	HopInstall = "install"
	HopPatch   = "hotfix/maintenance"
	HopMajor   = "major"
)

// Hop is one step of an upgrade path.
type Hop struct {
	From *Release `json:"from,omitempty"`
	To   Release  `json:"to"`
	Kind string   `json:"kind"`
}

// PathError explains why a target cannot be reached.
type PathError struct {
	Msg string
	// Downgrade is true when the target is older than the installed release: the vendor's
	// procedure never goes backwards; a rollback, or a restore from backup, does.
	Downgrade bool
}

// Error implements error.
func (e *PathError) Error() string { return e.Msg }

// Path computes the upgrade path from the installed release (nil: fresh install) to the target,
// under the vendor's rules (the TPE upgrade procedure):
//   - a hotfix or maintenance upgrade inside a line is one hop;
//   - a major upgrade is done from the latest fix of the previous line, one line at a time;
//   - never backwards (that is a rollback).
//
// From v7.1.2 to v7.3.1 the path is v7.1.3a → v7.2.2c → v7.3.1; from v7.3.4 to v8.0.0 it is
// v7.3.6 (the latest 7.3 fix) → v8.0.0. The target may be outside the
// matrix (a --manifest release); the installed release may not.
func (m *Matrix) Path(from *Release, to Release) ([]Hop, error) {
	if from == nil {
		return []Hop{{To: to, Kind: HopInstall}}, nil
	}
	ft, err := from.Key()
	if err != nil {
		return nil, err
	}
	tt, err := to.Key()
	if err != nil {
		return nil, err
	}
	if !from.Before(to) && !to.Before(*from) || from.SameCharts(to) {
		return nil, nil
	}
	if to.Before(*from) {
		return nil, &PathError{Downgrade: true, Msg: fmt.Sprintf("%s is older than the installed %s: going backwards is a rollback, use `{cmd:rollback}`", to.Name, from.Name)}
	}
	if ft.Line() == tt.Line() {
		return []Hop{{From: from, To: to, Kind: HopPatch}}, nil
	}
	lines := m.Lines()
	idx := func(l string) int {
		for i, x := range lines {
			if x == l {
				return i
			}
		}
		return -1
	}
	fi, ti := idx(ft.Line()), idx(tt.Line())
	if fi < 0 {
		return nil, &PathError{Msg: fmt.Sprintf("the installed release %s is in no known release line", from.Name)}
	}
	if ti < 0 {
		// A target line the matrix does not know (a --manifest for a newer line): it must be the next one.
		ti = len(lines)
	}
	var hops []Hop
	cur := *from
	for i := fi; i < ti; i++ {
		latest, ok := m.LatestFix(lines[i])
		if !ok {
			return nil, &PathError{Msg: fmt.Sprintf("no tagged release in line %s", lines[i])}
		}
		if cur.Name != latest.Name && cur.Before(latest) {
			c := cur
			hops = append(hops, Hop{From: &c, To: latest, Kind: HopPatch})
			cur = latest
		}
		var next Release
		if i+1 == ti {
			next = to
		} else {
			var ok bool
			if next, ok = m.LatestFix(lines[i+1]); !ok {
				return nil, &PathError{Msg: fmt.Sprintf("no tagged release in line %s", lines[i+1])}
			}
		}
		c := cur
		hops = append(hops, Hop{From: &c, To: next, Kind: HopMajor})
		cur = next
	}
	return hops, nil
}

// SameCharts reports whether r and b install the same four charts (two names of one release).
func (r Release) SameCharts(b Release) bool {
	ac, bc := r.Charts(), b.Charts()
	for i := range ac {
		if ac[i] != bc[i] {
			return false
		}
	}
	return true
}
