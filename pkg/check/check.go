// Package check is the one check framework: preflight, `helm tpe plan` and `kubectl tpe status`
// all report through it. A Check has an id, a category, a status, a message that names the
// object, and a remediation.
package check

import (
	"slices"
	"sort"
)

// Status is the outcome of one check.
type Status string

// Check statuses, from best to worst (manual and skip are neutral).
const (
	Pass   Status = "pass"
	Warn   Status = "warn"
	Fail   Status = "fail"
	Skip   Status = "skip"
	Manual Status = "manual"
)

// Severity orders statuses for --fail-on: fail > warn > the rest.
func (s Status) Severity() int {
	switch s {
	case Fail:
		return 2
	case Warn:
		return 1
	}
	return 0
}

// Check is one verified requirement.
type Check struct {
	ID          string   `json:"id"`
	Category    string   `json:"category"`
	Status      Status   `json:"status"`
	Message     string   `json:"message"`
	Remediation string   `json:"remediation,omitempty"`
	Details     []string `json:"details,omitempty"`
	// Items are the details as objects, for programs: one per item, their shape set by the check
	// (the rbac.* checks list each missing permission as {verb, group, resource, namespace,
	// resourceNames}). Items may be longer than Details, which a check may shorten for people.
	Items []any `json:"items,omitempty"`
}

// Summary counts checks by status.
type Summary struct {
	Total  int `json:"total"`
	Pass   int `json:"pass"`
	Warn   int `json:"warn"`
	Fail   int `json:"fail"`
	Skip   int `json:"skip"`
	Manual int `json:"manual"`
}

// Report is a list of checks with its summary. It is the documented JSON/YAML schema
// (docs/output-schema.md): {"kind", "checks": [...], "summary": {...}}.
type Report struct {
	Kind string `json:"kind"`
	// Notes say, one line each, what the command's inputs resolved to (an alias, an untagged
	// release): printed once before the checks.
	Notes   []string `json:"notes,omitempty"`
	Checks  []Check  `json:"checks"`
	Summary Summary  `json:"summary"`
}

// Note adds a note (none for an empty one, or one already there).
func (r *Report) Note(s string) {
	if s != "" && !slices.Contains(r.Notes, s) {
		r.Notes = append(r.Notes, s)
	}
}

// NewReport starts an empty report of the given kind ("Preflight", "Plan", "Status").
func NewReport(kind string) *Report { return &Report{Kind: kind, Checks: []Check{}} }

// Add appends checks and updates the summary.
func (r *Report) Add(cs ...Check) {
	for _, c := range cs {
		r.Checks = append(r.Checks, c)
		r.Summary.Total++
		switch c.Status {
		case Pass:
			r.Summary.Pass++
		case Warn:
			r.Summary.Warn++
		case Fail:
			r.Summary.Fail++
		case Skip:
			r.Summary.Skip++
		case Manual:
			r.Summary.Manual++
		}
	}
}

// Worst returns the most severe status in the report (pass when empty).
func (r *Report) Worst() Status {
	w := Pass
	for _, c := range r.Checks {
		if c.Status.Severity() > w.Severity() {
			w = c.Status
		}
	}
	return w
}

// FailsOn reports whether the report fails under threshold (Fail or Warn).
func (r *Report) FailsOn(threshold Status) bool {
	return r.Worst().Severity() >= threshold.Severity() && r.Worst().Severity() > 0
}

// Categories returns the categories in first-seen order.
func (r *Report) Categories() []string {
	seen := map[string]int{}
	var out []string
	for _, c := range r.Checks {
		if _, ok := seen[c.Category]; !ok {
			seen[c.Category] = len(out)
			out = append(out, c.Category)
		}
	}
	return out
}

// ByCategory returns the checks grouped by category, categories in first-seen order and checks
// stable within each.
func (r *Report) ByCategory() []Check {
	order := map[string]int{}
	for i, c := range r.Categories() {
		order[c] = i
	}
	out := append([]Check(nil), r.Checks...)
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].Category] < order[out[j].Category] })
	return out
}

// Find returns the check with the given id.
func (r *Report) Find(id string) (Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}
