package helmtpe

import (
	"bytes"
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/fleet"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
)

func TestFleetPlanVerdictsAndSummary(t *testing.T) {
	report := func(cs ...check.Check) *check.Report {
		r := check.NewReport("Plan")
		r.Add(cs...)
		return r
	}
	row := func(name string, p *plan.Plan, err *fleet.RowError) fleet.Result[*plan.Plan] {
		return fleet.Result[*plan.Plan]{Outcome: fleet.Outcome{Installation: fleet.Installation{Name: name, Context: name}, Namespace: "tpe", Error: err}, Value: p}
	}
	todo := plan.AdminStep{ID: "crd.strimzi", Description: "upgrade the Strimzi CRDs", Status: plan.AdminTodo}
	rs := []fleet.Result[*plan.Plan]{
		row("a", &plan.Plan{Installed: "v7.3.6", Action: plan.ActionUpgrade, Reachable: true, Report: report(),
			Hops: []plan.Hop{{To: "v8.0.0", AdminSteps: []plan.AdminStep{todo, {ID: "x", Status: plan.AdminDone}}}}}, nil),
		row("b", &plan.Plan{Installed: "v7.3.1", Action: plan.ActionUpgrade, Reachable: true, Report: report(),
			Hops: []plan.Hop{{To: "v7.3.6"}, {To: "v8.0.0"}}}, nil),
		row("c", &plan.Plan{Installed: "v7.3.6", Action: plan.ActionUpgrade, Reachable: true, Hops: []plan.Hop{{To: "v8.0.0"}},
			Report: report(check.Check{ID: "kubernetes.range", Category: "Kubernetes", Status: check.Fail, Message: "Kubernetes 1.24 is older than 1.27"})}, nil),
		row("d", &plan.Plan{Installed: "v8.0.0", Action: plan.ActionNone, Reachable: true, Report: report()}, nil),
		row("e", nil, &fleet.RowError{Kind: fleet.ErrUnreachable, Message: "the Kubernetes API server https://e does not answer"}),
		row("f", &plan.Plan{Installed: "v7.3.6", Action: plan.ActionUpgrade, Reachable: true, Report: report(), Hops: []plan.Hop{{To: "v8.0.0"}}}, nil),
	}
	doc := fleetPlan("v8.0.0", rs)
	want := map[string]string{"a": VerdictReady, "b": VerdictFirst, "c": VerdictBlocked, "d": VerdictUpToDate, "e": "", "f": VerdictReady}
	for _, r := range doc.Installations {
		if r.Verdict != want[r.Name] {
			t.Errorf("%s: verdict %q, want %q", r.Name, r.Verdict, want[r.Name])
		}
	}
	if got := len(doc.Installations[0].AdminSteps); got != 1 {
		t.Errorf("a: %d admin steps to do, want 1 (the done one is left out)", got)
	}
	const line = "2 of 6 can go to v8.0.0 now; 1 needs v7.3.6 first; 1 already on v8.0.0; 1 blocked; 1 unreachable or unreadable"
	if doc.Line != line {
		t.Errorf("summary line\n got %q\nwant %q", doc.Line, line)
	}
	var b bytes.Buffer
	if err := writeFleetPlan(&b, doc, false); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"needs v7.3.6 first", "[TO DO] upgrade the Strimzi CRDs", "FAIL kubernetes.range", "ERROR (unreachable)", "unreachable: the Kubernetes API server https://e does not answer", line} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("the table lacks %q:\n%s", s, b.String())
		}
	}
}
