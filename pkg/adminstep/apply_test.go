package adminstep

import (
	"context"
	"errors"
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
)

// denyAll is a reviewer whose complete rules grant nothing.
type denyAll struct{}

func (denyAll) Rules(context.Context, string) ([]authv1.ResourceRule, bool, bool, error) {
	return nil, false, true, nil
}
func (denyAll) Allowed(context.Context, rbac.Permission) (bool, string, error) { return false, "", nil }
func (denyAll) Subject() string                                                { return "user operator" }

func newDyn(objs ...runtime.Object) *dynfake.FakeDynamicClient {
	return dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{CRDResource: "CustomResourceDefinitionList"}, objs...)
}

func mutating(actions []k8stesting.Action) []string {
	var out []string
	for _, a := range actions {
		switch a.GetVerb() {
		case "get", "list", "watch":
		default:
			out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
		}
	}
	return out
}

func vendorPCs() []runtime.Object {
	var out []runtime.Object
	for i, n := range prereq.VendorPriorityNames.Names() {
		out = append(out, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: n}, Value: prereq.PriorityValues[i]})
	}
	return out
}

func TestApplyJudgesBeforeChanging(t *testing.T) {
	path, _ := hop80(t)
	m := manifest.MustLoad()
	v722, _ := m.Get("v7.2.2c")
	v731, _ := m.Get("v7.3.1")
	v80 := path[0].To
	twoHops := []manifest.Hop{{From: &v722, To: v731}, {From: &v731, To: v80}}
	all := append(fixtureCRDs(t, strimzi("0.44.0"), true), fixtureCRDs(t, psmdb("1.17.0"), true)...)
	tests := []struct {
		name    string
		path    []manifest.Hop
		crds    []runtime.Object
		dryRun  string
		review  rbac.Reviewer
		err     string
		nothing bool
		failed  string
		note    string
		diff    string
	}{
		{name: "every step done: nothing to do, no request that changes anything", path: path, crds: all, review: denyAll{}, nothing: true},
		{name: "the operator: the missing permissions, nothing changed", path: path, crds: append(fixtureCRDs(t, strimzi("0.32.0"), true), fixtureCRDs(t, psmdb("1.13.0"), true)...),
			review: denyAll{}, err: "user operator may not apply the cluster-admin steps: missing get customresourcedefinitions.apiextensions.k8s.io"},
		{name: "strimzi 0.42 matches no known version: refused", path: path, crds: append(fixtureCRDs(t, strimzi("0.42.0"), true), fixtureCRDs(t, psmdb("1.17.0"), true)...),
			failed: "refusing to apply"},
		{name: "CRDs newer than a hop's step are never downgraded", path: twoHops, crds: all, nothing: true, note: "found 1.17.0: not downgraded"},
		{name: "client dry run shows the change as a diff", path: path, crds: append(fixtureCRDs(t, strimzi("0.44.0"), true), fixtureCRDs(t, psmdb("1.16.1"), true)...),
			dryRun: prereq.DryRunClient, diff: "+              logcollector:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dyn := newDyn(tt.crds...)
			kube := fake.NewClientset(vendorPCs()...)
			dry := tt.dryRun
			if dry == "" {
				dry = prereq.DryRunNone
			}
			res, err := Apply(t.Context(), Deps{Kube: kube, Dynamic: dyn, Reviewer: tt.review},
				Config{Path: tt.path, Namespace: "tpe", Source: &dirSource{}, DryRun: dry})
			if tt.err != "" {
				var pe *PermissionError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want a PermissionError ~%q", err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if m := append(mutating(dyn.Actions()), mutating(kube.Actions())...); len(m) > 0 {
				t.Errorf("mutating requests: %v", m)
			}
			if res == nil {
				return
			}
			if res.NothingToDo != tt.nothing {
				t.Errorf("nothing to do = %v, want %v: %+v", res.NothingToDo, tt.nothing, res.Steps)
			}
			var failed, notes, diffs []string
			for _, s := range res.Steps {
				failed, notes = append(failed, s.Failed), append(notes, s.Note)
				for _, c := range s.Changes {
					diffs = append(diffs, c.Diff)
				}
			}
			if !strings.Contains(strings.Join(failed, "|"), tt.failed) || !strings.Contains(strings.Join(notes, "|"), tt.note) || !strings.Contains(strings.Join(diffs, "|"), tt.diff) {
				t.Errorf("failed %q notes %q diffs %q: want ~%q, ~%q, ~%q", failed, notes, diffs, tt.failed, tt.note, tt.diff)
			}
		})
	}
}

func TestPriorityNamesFollowTheValues(t *testing.T) {
	n, why := priorityNames(nil)
	if n.Spelling != prereq.SpellingVendor || !strings.Contains(why, "examples/priority-class/default.yaml") {
		t.Fatalf("no values: %s (%s), want the vendor's example spelling", n.Spelling, why)
	}
	n, _ = priorityNames(map[string]any{"lrc": map[string]any{"priorityClassName": "thingpark-datapath"}})
	if n.Spelling != prereq.SpellingDocs {
		t.Fatalf("values in the documentation's spelling: got %s", n.Spelling)
	}
}
