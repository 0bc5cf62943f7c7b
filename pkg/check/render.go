package check

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// Formats are the output formats a report can be written in.
var Formats = []cli.Format{cli.FormatTable, cli.FormatJSON, cli.FormatYAML, cli.FormatJUnit}

// Write renders the report in format f; a table fits the terminal (cli.Fit) unless f is wide.
func Write(w io.Writer, f cli.Format, r *Report, color bool) error {
	switch f {
	case cli.FormatJUnit:
		return WriteJUnit(w, r)
	case cli.FormatJSON, cli.FormatYAML:
		return cli.WriteData(w, f, r)
	}
	w, done := cli.Fit(w, f)
	defer done()
	return WriteTable(w, r, color)
}

// Symbol is the short mark printed in tables for a status.
func Symbol(s Status, color bool) string {
	mark := map[Status]string{Pass: "PASS", Warn: "WARN", Fail: "FAIL", Skip: "SKIP", Manual: "TODO"}[s]
	if !color {
		return mark
	}
	code := map[Status]string{Pass: "32", Warn: "33", Fail: "31", Skip: "90", Manual: "36"}[s]
	return "\x1b[" + code + "m" + mark + "\x1b[0m"
}

// WriteTable writes the checks grouped by category, then the summary line.
func WriteTable(w io.Writer, r *Report, color bool) error {
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	t := cli.NewTable(w, "CATEGORY", "STATUS", "CHECK", "MESSAGE")
	last := ""
	var remediations []Check
	for _, c := range r.ByCategory() {
		cat := c.Category
		if cat == last {
			cat = ""
		}
		last = c.Category
		msg := c.Message
		for _, d := range c.Details {
			msg += "\n  - " + d
		}
		t.Row(cat, Symbol(c.Status, color), c.ID, msg)
		if c.Remediation != "" && (c.Status == Fail || c.Status == Warn) {
			remediations = append(remediations, c)
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if len(remediations) > 0 {
		fmt.Fprintln(w, "\nTo fix:")
		for _, c := range remediations {
			fmt.Fprintf(w, "  %s: %s\n", c.ID, indent(text.Safe(c.Remediation), "    "))
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", SummaryLine(r))
	return err
}

// SummaryLine is the one-line verdict of a report.
func SummaryLine(r *Report) string {
	s := r.Summary
	verdict := "OK"
	switch r.Worst() {
	case Fail:
		verdict = "FAILED"
	case Warn:
		verdict = "OK with warnings"
	}
	return fmt.Sprintf("%s: %s — %d checks: %d passed, %d warnings, %d failed, %d skipped, %d manual",
		r.Kind, verdict, s.Total, s.Pass, s.Warn, s.Fail, s.Skip, s.Manual)
}

func indent(s, pad string) string { return strings.ReplaceAll(s, "\n", "\n"+pad) }

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as JUnit XML: one testsuite per category, one testcase per check.
// fail is a failure; skip and manual are skipped; warn passes with the message in system-out.
func WriteJUnit(w io.Writer, r *Report) error {
	out := junitSuites{Name: r.Kind}
	idx := map[string]int{}
	for _, c := range r.Checks {
		i, ok := idx[c.Category]
		if !ok {
			i = len(out.Suites)
			idx[c.Category] = i
			out.Suites = append(out.Suites, junitSuite{Name: c.Category})
		}
		s := &out.Suites[i]
		tc := junitCase{Name: c.ID, Classname: r.Kind + "." + c.Category, SystemOut: c.Message}
		switch c.Status {
		case Fail:
			tc.Failure = &junitFailure{Message: c.Message, Type: "fail", Text: c.Remediation}
			s.Failures++
			out.Failures++
		case Skip, Manual:
			tc.Skipped = &junitSkipped{Message: string(c.Status) + ": " + c.Message}
			s.Skipped++
			out.Skipped++
		case Warn:
			tc.SystemOut = "WARNING: " + c.Message
		}
		s.Tests++
		out.Tests++
		s.Cases = append(s.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
