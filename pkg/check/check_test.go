package check

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

func sample() *Report {
	r := NewReport("Preflight")
	r.Add(
		Check{ID: "k8s-version", Category: "cluster", Status: Warn, Message: "Kubernetes 1.37 is newer than the versions validated for TPE v7.3.1 (1.24–1.27)"},
		Check{ID: "priorityclasses", Category: "scheduling", Status: Fail, Message: "PriorityClass thingpark-datapath is missing", Remediation: "kubectl tpe prereqs apply"},
		Check{ID: "nodes", Category: "cluster", Status: Pass, Message: "3 nodes in 3 zones"},
		Check{ID: "inter-zone", Category: "network", Status: Manual, Message: "latency < 10 ms between zones"},
		Check{ID: "probe", Category: "network", Status: Skip, Message: "--probe not set"},
	)
	return r
}

func TestSummaryAndWorst(t *testing.T) {
	r := sample()
	want := Summary{Total: 5, Pass: 1, Warn: 1, Fail: 1, Skip: 1, Manual: 1}
	if r.Summary != want {
		t.Fatalf("summary = %+v, want %+v", r.Summary, want)
	}
	if r.Worst() != Fail {
		t.Fatalf("worst = %s", r.Worst())
	}
	tests := []struct {
		name      string
		statuses  []Status
		threshold Status
		want      bool
	}{
		{"empty never fails", nil, Warn, false},
		{"pass only", []Status{Pass, Skip, Manual}, Warn, false},
		{"warn fails on warn", []Status{Pass, Warn}, Warn, true},
		{"warn passes on fail", []Status{Pass, Warn}, Fail, false},
		{"fail fails on fail", []Status{Fail}, Fail, true},
		{"fail fails on warn", []Status{Fail}, Warn, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReport("x")
			for i, s := range tt.statuses {
				r.Add(Check{ID: string(rune('a' + i)), Status: s})
			}
			if got := r.FailsOn(tt.threshold); got != tt.want {
				t.Fatalf("FailsOn(%s) = %v, want %v", tt.threshold, got, tt.want)
			}
		})
	}
}

func TestByCategoryKeepsFirstSeenOrder(t *testing.T) {
	var ids []string
	for _, c := range sample().ByCategory() {
		ids = append(ids, c.ID)
	}
	if got := strings.Join(ids, ","); got != "k8s-version,nodes,priorityclasses,inter-zone,probe" {
		t.Fatalf("order = %s", got)
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, cli.FormatTable, sample(), false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"CATEGORY", "FAIL", "priorityclasses", "To fix:", "kubectl tpe prereqs apply",
		"Preflight: FAILED — 5 checks: 1 passed, 1 warnings, 1 failed, 1 skipped, 1 manual"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour written with color=false")
	}
}

func TestWriteJSONSchema(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, cli.FormatJSON, sample(), false); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Kind   string           `json:"kind"`
		Checks []map[string]any `json:"checks"`
		Sum    map[string]int   `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Kind != "Preflight" || len(got.Checks) != 5 || got.Sum["fail"] != 1 {
		t.Fatalf("unexpected JSON: %s", b.String())
	}
	for _, k := range []string{"id", "category", "status", "message"} {
		if _, ok := got.Checks[1][k]; !ok {
			t.Errorf("check lacks %q", k)
		}
	}
}

func TestWriteJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, cli.FormatJUnit, sample(), false); err != nil {
		t.Fatal(err)
	}
	var s junitSuites
	if err := xml.Unmarshal(b.Bytes(), &s); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, b.String())
	}
	if s.Tests != 5 || s.Failures != 1 || s.Skipped != 2 || len(s.Suites) != 3 {
		t.Fatalf("tests=%d failures=%d skipped=%d suites=%d", s.Tests, s.Failures, s.Skipped, len(s.Suites))
	}
}

func TestReportNotes(t *testing.T) {
	r := NewReport("Preflight")
	r.Note("v7.3.4c is an alias of v7.3.6 (the vendor renamed it)")
	r.Note("v7.3.4c is an alias of v7.3.6 (the vendor renamed it)")
	r.Note("")
	var b bytes.Buffer
	if err := Write(&b, cli.FormatTable, r, false); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), "Note: v7.3.4c is an alias of v7.3.6"); got != 1 {
		t.Errorf("note printed %d times:\n%s", got, b.String())
	}
	b.Reset()
	if err := Write(&b, cli.FormatJSON, r, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"notes": [`) {
		t.Errorf("JSON carries no notes:\n%s", b.String())
	}
}
