package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// Format is an output format selected with -o.
type Format string

// Output formats.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatYAML  Format = "yaml"
	FormatJUnit Format = "junit"
)

// ParseFormat validates the value of -o against the formats a command supports. wide is
// accepted wherever table is (FormatWide: the table not fitted to the terminal).
func ParseFormat(s string, allowed ...Format) (Format, error) {
	if s == "" {
		s = string(FormatTable)
	}
	names := make([]string, 0, len(allowed)+1)
	for _, f := range allowed {
		if string(f) == s {
			return f, nil
		}
		names = append(names, string(f))
		if f == FormatTable {
			if s == string(FormatWide) {
				return FormatWide, nil
			}
			names = append(names, string(FormatWide))
		}
	}
	return "", fmt.Errorf("invalid value %q for flag -o/--output: must be one of %s", s, strings.Join(names, ", "))
}

// WriteJSON writes v as indented JSON with a final newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteYAML writes v as YAML (through its JSON tags, so both formats share one schema).
func WriteYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteData writes v as JSON or YAML; it is an error for other formats.
func WriteData(w io.Writer, f Format, v any) error {
	switch f {
	case FormatJSON:
		return WriteJSON(w, v)
	case FormatYAML:
		return WriteYAML(w, v)
	}
	return fmt.Errorf("format %q is not a data format", f)
}

// Table is a borderless, kubectl-looking table.
type Table struct {
	t       *tablewriter.Table
	buf     bytes.Buffer
	out     io.Writer
	width   int                 // the width to fit (a writer from Fit), 0 for none
	rewrite func(string) string // what the writer does to text (rewriter), done before cells are wrapped
	header  []string            // kept until Render, which fits them to width
	rows    [][]string          // idem
}

// columnGap is the number of spaces between two columns.
const columnGap = 3

// NewTable starts a table with the given column headers. On a writer from Fit, the table fits
// its width: the widest columns are wrapped (fitColumns).
func NewTable(w io.Writer, headers ...string) *Table {
	tb := &Table{out: w, header: headers}
	if f, ok := w.(*fitted); ok {
		tb.width, tb.rewrite = f.width, f.rewrite
	}
	t := tablewriter.NewTable(&tb.buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Formatting: tw.CellFormatting{AutoFormat: tw.Off},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: "   ", Overwrite: true}},
			},
			Row: tw.CellConfig{
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: "   ", Overwrite: true}},
			},
		}),
		tablewriter.WithTrimSpace(tw.Off),
	)
	tb.t = t
	return tb
}

// Row appends one row. Cells are made safe for a terminal (text.Safe), and a tab, which would
// break the columns, becomes a space: a cell may hold text from a cluster, a dump or a chart. A
// cell wholly coloured by one SGR sequence (a status mark) keeps its colour, its text made safe.
func (t *Table) Row(cells ...string) {
	safe := make([]string, len(cells))
	for i, c := range cells {
		if m := colored.FindStringSubmatch(c); m != nil {
			safe[i] = m[1] + safeCell(m[2]) + "\x1b[0m"
			continue
		}
		safe[i] = safeCell(c)
	}
	t.rows = append(t.rows, safe)
}

// colored is a cell coloured as a whole: one SGR sequence (colours only, nothing a terminal acts
// on otherwise), the text, the reset.
var colored = regexp.MustCompile("^(\x1b\\[[0-9;]*m)([^\x1b]*)\x1b\\[0m$")

func safeCell(s string) string { return strings.ReplaceAll(text.Safe(s), "\t", " ") }

// Render writes the table, without the padding tablewriter leaves at the end of each line.
func (t *Table) Render() error {
	header, rows := t.header, t.rows
	if t.width > 0 {
		all := append([][]string{append([]string(nil), header...)}, rows...)
		for _, r := range all {
			for i := range r {
				r[i] = t.rewrite(r[i])
			}
		}
		if widths := fitColumns(all, t.width, columnGap); widths != nil {
			for _, r := range all {
				for i := range r {
					if !colored.MatchString(r[i]) {
						r[i] = wrapLines(r[i], widths[i], 0, modeBreak)
					}
				}
			}
		}
		header, rows = all[0], all[1:]
	}
	if len(header) > 0 {
		t.t.Header(toAny(header)...)
	}
	for _, r := range rows {
		if err := t.t.Append(toAny(r)...); err != nil {
			return err
		}
	}
	t.rows = nil
	if err := t.t.Render(); err != nil {
		return err
	}
	lines := strings.SplitAfter(t.buf.String(), "\n")
	var b strings.Builder
	for _, l := range lines {
		nl := strings.HasSuffix(l, "\n")
		b.WriteString(strings.TrimRight(l, " \n"))
		if nl {
			b.WriteByte('\n')
		}
	}
	t.buf.Reset()
	_, err := io.WriteString(t.out, b.String())
	return err
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// UseColor reports whether colour may be written to w: never when NO_COLOR is set or w is not a TTY.
func UseColor(w io.Writer, mode string) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	return IsTerminal(w)
}
