package cli

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// widest is the width of the widest line of s (no colour in these tests).
func widest(s string) int {
	m := 0
	for _, l := range strings.Split(s, "\n") {
		m = max(m, utf8.RuneCountInString(l))
	}
	return m
}

func TestParseFormatWide(t *testing.T) {
	if f, err := ParseFormat("wide", FormatTable, FormatJSON, FormatYAML); err != nil || f != FormatWide || !f.IsTable() {
		t.Fatalf("wide: %v %v", f, err)
	}
	if FormatJSON.IsTable() || !FormatTable.IsTable() {
		t.Fatal("IsTable wrong")
	}
	// A command without a table has no wide either.
	_, err := ParseFormat("wide", FormatYAML, FormatJSON)
	if err == nil || !strings.Contains(err.Error(), "must be one of yaml, json") {
		t.Fatalf("wide without table: %v", err)
	}
}

func TestWidth(t *testing.T) {
	var b bytes.Buffer
	t.Setenv("COLUMNS", "")
	if w := Width(&b, FormatTable); w != 0 {
		t.Errorf("a buffer without COLUMNS has width %d, want 0 (whole)", w)
	}
	t.Setenv("COLUMNS", "80")
	for f, want := range map[Format]int{FormatTable: 80, FormatWide: 0, FormatJSON: 0} {
		if w := Width(&b, f); w != want {
			t.Errorf("Width(%s) = %d, want %d", f, w, want)
		}
	}
	t.Setenv("COLUMNS", "banana")
	if w := Width(&b, FormatTable); w != 0 {
		t.Errorf("COLUMNS=banana gives width %d", w)
	}
}

const longMessage = "hop 1: the cluster's Kubernetes version is unknown; TPE v7.1.3a supports 1.21–1.24 (give the cluster's version with --kube-version to judge it)"

func fittedTable(t *testing.T, f Format) string {
	t.Helper()
	var b bytes.Buffer
	w, done := Fit(&b, f)
	tb := NewTable(w, "CATEGORY", "STATUS", "CHECK", "MESSAGE")
	tb.Row("Kubernetes version", "\x1b[33mSKIP\x1b[0m", "kubernetes.1", longMessage)
	tb.Row("Cluster-admin steps", "TODO", "admin.3.priorityclasses", "create the PriorityClasses\n  - cannot be checked without the cluster, which this plan did not read")
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "Action:     none: the target cannot be reached: "+longMessage)
	fmt.Fprint(w, "a last line without newline")
	done()
	return b.String()
}

// TestTableFitsTheWidth: on 80 columns, the message column is wrapped at word boundaries, the
// columns that name a row are whole, no word is lost; -o wide and no width leave the rows whole.
func TestTableFitsTheWidth(t *testing.T) {
	t.Setenv("COLUMNS", "80")
	out := fittedTable(t, FormatTable)
	if w := widest(stripSGR(out)); w > 80 {
		t.Fatalf("widest line %d > 80:\n%s", w, out)
	}
	for _, whole := range []string{"kubernetes.1", "admin.3.priorityclasses", "Cluster-admin", "--kube-version", "a last line without newline"} {
		if !strings.Contains(out, whole) {
			t.Errorf("%q was broken:\n%s", whole, out)
		}
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[1], "Kubernetes ") || !strings.HasSuffix(stripSGR(lines[1]), "hop 1: the cluster's") {
		t.Errorf("the first row does not start the message in its column:\n%s", out)
	}
	// The detail of a message keeps its mark, its continuation under its text.
	if !strings.Contains(out, "- cannot be checked") {
		t.Errorf("detail lost:\n%s", out)
	}
	// The text lines continue under their second column.
	if !strings.Contains(out, "\n            ") {
		t.Errorf("Action line not wrapped under its value:\n%s", out)
	}
	if got, want := words(out), words(fittedTable(t, FormatWide)); got != want {
		t.Errorf("words differ from the whole output:\n%s\nwant\n%s", got, want)
	}

	wide := fittedTable(t, FormatWide)
	t.Setenv("COLUMNS", "")
	piped := fittedTable(t, FormatTable)
	if wide != piped {
		t.Errorf("-o wide differs from piped output:\n%s\n%s", wide, piped)
	}
	if !strings.Contains(piped, longMessage) || widest(stripSGR(piped)) <= 80 {
		t.Errorf("piped output was wrapped:\n%s", piped)
	}
}

// words is the sorted multiset of the words of s, as one string (wrapping moves words, it
// neither adds nor drops one).
func words(s string) string {
	ws := strings.Fields(stripSGR(s))
	sort.Strings(ws)
	return strings.Join(ws, " ")
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

func stripSGR(s string) string { return sgr.ReplaceAllString(s, "") }

// TestTableNarrowerThanItsWords: a table whose longest words do not fit breaks them after a
// hyphen (the widest column first), never the first column.
func TestTableNarrowerThanItsWords(t *testing.T) {
	t.Setenv("COLUMNS", "52")
	var b bytes.Buffer
	w, done := Fit(&b, FormatTable)
	tb := NewTable(w, "STEP", "HELM RELEASE", "CHART", "FROM")
	tb.Row("3", "tpe-controllers", "thingpark-application-controllers", "thingpark-enterprise-controllers 1.0.3")
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	done()
	out := b.String()
	if widest(out) > 52 {
		t.Fatalf("widest line %d > 52:\n%s", widest(out), out)
	}
	if !strings.Contains(out, "tpe-controllers") || !strings.Contains(out, "application-  ") || !strings.Contains(out, "enterprise-\n") {
		t.Errorf("unexpected breaks:\n%s", out)
	}
}

func TestWrapText(t *testing.T) {
	tests := []struct {
		name, in, want string
		width          int
	}{
		{"fits", "short line", "short line", 20},
		{"indent and extra", "  [to do] upgrade the Strimzi CRDs", "  [to do] upgrade\n    the Strimzi CRDs", 20},
		{"list item", "  - one two three four", "  - one two three\n    four", 20},
		{"column", "  -o, --out   the output format", "  -o, --out   the output\n              format", 24},
		{"long word", "see /var/lib/tpe/backups/2026-12-04", "see\n  /var/lib/tpe/backups/\n  2026-12-04", 24},
		{"a URL is whole", "see https://example.com/a/b/c/d/e/f", "see\nhttps://example.com/a/b/c/d/e/f", 24},
		{"no width", "a b c", "a b c", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wrapText(tt.in, tt.width, 2); got != tt.want {
				t.Errorf("wrapText(%q, %d) =\n%s\nwant\n%s", tt.in, tt.width, got, tt.want)
			}
		})
	}
}

// TestWrapHelp: help paragraphs, flags, example comments and example commands fit; a wrapped
// command still runs as one when pasted (each broken line ends with a backslash, an option
// stays with its value).
func TestWrapHelp(t *testing.T) {
	help := strings.Join([]string{
		"Show the plan from what is installed in the namespace to the target release, changing nothing at all.",
		"",
		"Examples:",
		"  # Without access to the cluster: the customer runs 7.2.2c on Kubernetes 1.27.3",
		"  helm tpe plan --from v7.2.2c --to v7.3.1 --kube-version v1.27.3 -f values.yaml --chart-dir ./charts",
		"",
		"Flags:",
		"      --chart-dir string   directory holding the target's four charts (.tgz or unpacked) to check the values against",
	}, "\n")
	got := wrapHelp(help, 60)
	if widest(got) > 60 {
		t.Fatalf("widest line %d > 60:\n%s", widest(got), got)
	}
	var cmd []string
	for _, l := range strings.Split(got, "\n") {
		if strings.Contains(l, "Kubernetes 1.27.3") && !strings.HasPrefix(l, "  # ") {
			t.Errorf("a continued comment is no comment: %q", l)
		}
		if strings.HasPrefix(l, "  helm tpe") || len(cmd) > 0 && len(cmd) < 10 && strings.HasPrefix(l, "    ") && !strings.HasPrefix(l, "     ") {
			cmd = append(cmd, l)
		}
	}
	joined := strings.Join(cmd, "\n")
	if !strings.Contains(joined, " \\\n") {
		t.Fatalf("the command was not continued with a backslash:\n%s", got)
	}
	if pasted := strings.Join(strings.Fields(strings.ReplaceAll(joined, "\\\n", " ")), " "); pasted != "helm tpe plan --from v7.2.2c --to v7.3.1 --kube-version v1.27.3 -f values.yaml --chart-dir ./charts" {
		t.Errorf("pasted command differs: %q", pasted)
	}
	for _, pair := range []string{"--kube-version v1.27.3", "-f values.yaml", "--chart-dir ./charts"} {
		if !strings.Contains(got, pair) {
			t.Errorf("%q split from its value:\n%s", pair, got)
		}
	}
	if !strings.Contains(got, "\n                           ") {
		t.Errorf("flag usage not continued under its column:\n%s", got)
	}
	if wrapHelp(help, 0) != help {
		t.Error("no width changed the help")
	}
}
