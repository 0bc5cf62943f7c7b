package adminstep

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// CRDResource is the resource of CustomResourceDefinitions.
var CRDResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Status is the judgement of a step.
type Status string

// Statuses.
const (
	Done    Status = "done"
	Todo    Status = "todo"
	Unknown Status = "unknown" // cannot be verified: never taken as done
)

// Version is the vendor's CRD manifest of one operator version, read at the ref of Release.
type Version struct {
	Version string
	Release manifest.Release
	CRDs    []CRD
}

// Verdict is where the cluster stands on a CRD step.
type Verdict struct {
	Status Status `json:"status"`
	// At is the version the live CRDs match ("" when none).
	At string `json:"at,omitempty"`
	// Next is the version to apply next ("" when done or unknown).
	Next string `json:"next,omitempty"`
	// Half is true when the live CRDs are part At, part Next: Next was interrupted and is redone.
	Half bool `json:"halfApplied,omitempty"`
	// Newer is true when At is after the step's target: nothing to do, and nothing is downgraded.
	Newer  bool   `json:"newer,omitempty"`
	Detail string `json:"detail"`
}

// Chain reads the CRD manifests that tell where the cluster stands for step (of hop i of path):
// the step's From and Versions at the ref of the hop's target, and the versions the same step
// of the later hops applies (so a cluster already past the step is seen as such, not downgraded).
// An unreadable manifest of the step itself is an error; one of a later hop is skipped.
func Chain(ctx context.Context, src Source, path []manifest.Hop, i int, step manifest.AdminStep) ([]Version, error) {
	if src == nil {
		return nil, fmt.Errorf("no source of the vendor's CRD manifests")
	}
	seen := map[string]bool{}
	var out []Version
	add := func(rel manifest.Release, s manifest.AdminStep, v string, must bool) error {
		if seen[v] {
			return nil
		}
		p := s.CRDPath(v)
		data, err := src.Read(ctx, rel, p)
		if err != nil {
			if must {
				return fmt.Errorf("reading %s (%s): %w", p, src.Describe(), err)
			}
			return nil
		}
		crds, err := ParseCRDs(p, data)
		if err != nil {
			if must {
				return err
			}
			return nil
		}
		seen[v] = true
		out = append(out, Version{Version: v, Release: rel, CRDs: crds})
		return nil
	}
	own := append([]string(nil), step.Versions...)
	if step.From != "" {
		own = append([]string{step.From}, own...)
	}
	for _, v := range own {
		if err := add(path[i].To, step, v, true); err != nil {
			return nil, err
		}
	}
	for j := i + 1; j < len(path); j++ {
		for _, s := range manifest.AdminSteps(path[j]) {
			if s.ID != step.ID || s.Kind != manifest.AdminCRDs {
				continue
			}
			for _, v := range append([]string{s.From}, s.Versions...) {
				if v != "" {
					_ = add(path[j].To, s, v, false)
				}
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return less(out[a].Version, out[b].Version) })
	return out, nil
}

func less(a, b string) bool {
	va, ea := semver.NewVersion(a)
	vb, eb := semver.NewVersion(b)
	if ea != nil || eb != nil {
		return a < b
	}
	return va.LessThan(vb)
}

// Live reads the CRDs the chain names from the cluster (absent ones are not in the map).
func Live(ctx context.Context, dyn dynamic.Interface, chain []Version) (map[string]CRD, error) {
	out := map[string]CRD{}
	for _, v := range chain {
		for _, c := range v.CRDs {
			if _, ok := out[c.Name]; ok {
				continue
			}
			u, err := dyn.Resource(CRDResource).Get(ctx, c.Name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				continue
			case err != nil:
				return nil, err
			}
			lc, err := FromUnstructured(u.Object)
			if err != nil {
				return nil, err
			}
			out[c.Name] = lc
		}
	}
	return out, nil
}

// Judge tells where live stands in chain (ordered, oldest first) for a step whose target is
// target. The controller-gen annotation is only quoted as a hint.
func Judge(step manifest.AdminStep, live map[string]CRD, chain []Version) Verdict {
	operator, target := step.Operator, step.Target()
	ti := -1
	var tried []string
	for i, v := range chain {
		tried = append(tried, v.Version)
		if v.Version == target {
			ti = i
		}
	}
	if ti < 0 {
		return Verdict{Status: Unknown, Detail: fmt.Sprintf("the vendor's CRD manifest of %s %s could not be read", operator, target)}
	}
	if len(live) == 0 {
		next := step.Versions[0]
		return Verdict{Status: Todo, Next: next, Detail: fmt.Sprintf("no %s CRD is installed; next: %s", operator, next)}
	}
	matches := func(v Version) bool {
		for _, c := range v.CRDs {
			l, ok := live[c.Name]
			if !ok || !l.Same(c) {
				return false
			}
		}
		return true
	}
	at := -1
	for i := len(chain) - 1; i >= 0; i-- {
		if matches(chain[i]) {
			at = i
			break
		}
	}
	if at < 0 {
		// A version half applied: each CRD at that version or at the one before.
		for i := len(chain) - 1; i > 0; i-- {
			prev, cur := chain[i-1], chain[i]
			ok, some := true, false
			for _, c := range cur.CRDs {
				l, present := live[c.Name]
				p, inPrev := find(prev.CRDs, c.Name)
				switch {
				case present && l.Same(c):
					some = true
				case present && inPrev && l.Same(p):
				case !present && !inPrev:
				default:
					ok = false
				}
			}
			if ok && some && matchesExcept(prev, live, cur) {
				return Verdict{Status: Todo, At: prev.Version, Next: cur.Version, Half: true,
					Detail: fmt.Sprintf("%s CRDs are half way from %s to %s (interrupted): next: %s again", operator, prev.Version, cur.Version, cur.Version)}
			}
		}
		return Verdict{Status: Unknown, Detail: fmt.Sprintf("%s CRDs match none of the versions %s%s: cannot be verified", operator, strings.Join(tried, ", "), hint(live))}
	}
	var notEstablished []string
	for _, c := range chain[at].CRDs {
		if !live[c.Name].Established {
			notEstablished = append(notEstablished, c.Name)
		}
	}
	v := Verdict{At: chain[at].Version}
	switch {
	case len(notEstablished) > 0:
		v.Status, v.Next = Todo, chain[at].Version
		v.Detail = fmt.Sprintf("%s CRDs match %s but %s not Established yet", operator, v.At, strings.Join(notEstablished, ", "))
	case at == ti:
		v.Status, v.Detail = Done, fmt.Sprintf("%s CRDs match %s", operator, v.At)
	case at > ti:
		v.Status, v.Newer, v.Detail = Done, true, fmt.Sprintf("%s CRDs match %s, newer than %s: nothing to do, never downgraded", operator, v.At, target)
	default:
		v.Status, v.Next = Todo, chain[at+1].Version
		v.Detail = fmt.Sprintf("%s CRDs match %s; next: %s", operator, v.At, v.Next)
	}
	return v
}

// matchesExcept reports whether the CRDs of prev that cur does not have are unchanged.
func matchesExcept(prev Version, live map[string]CRD, cur Version) bool {
	for _, c := range prev.CRDs {
		if _, inCur := find(cur.CRDs, c.Name); inCur {
			continue
		}
		if l, ok := live[c.Name]; ok && !l.Same(c) {
			return false
		}
	}
	return true
}

func find(cs []CRD, name string) (CRD, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c, true
		}
	}
	return CRD{}, false
}

func hint(live map[string]CRD) string {
	hs := map[string]bool{}
	for _, c := range live {
		if c.Hint != "" {
			hs[c.Hint] = true
		}
	}
	if len(hs) == 0 {
		return ""
	}
	var list []string
	for h := range hs {
		list = append(list, h)
	}
	sort.Strings(list)
	return fmt.Sprintf(" (annotation %s: %s, a hint only)", HintAnnotation, strings.Join(list, ", "))
}

// JudgeStep reads the chain of a CRD step and the live CRDs, and judges them. Anything that
// cannot be read makes the step Unknown, never Done.
func JudgeStep(ctx context.Context, dyn dynamic.Interface, src Source, path []manifest.Hop, i int, step manifest.AdminStep) (Verdict, []Version) {
	if dyn == nil {
		return Verdict{Status: Unknown, Detail: "no cluster access"}, nil
	}
	chain, err := Chain(ctx, src, path, i, step)
	if err != nil {
		return Verdict{Status: Unknown, Detail: "cannot be verified: " + err.Error()}, nil
	}
	live, err := Live(ctx, dyn, chain)
	switch {
	case apierrors.IsForbidden(err):
		return Verdict{Status: Unknown, Detail: "reading CustomResourceDefinitions is forbidden for this account: ask a cluster admin"}, chain
	case err != nil:
		return Verdict{Status: Unknown, Detail: "reading the CRDs: " + err.Error()}, chain
	}
	return Judge(step, live, chain), chain
}
