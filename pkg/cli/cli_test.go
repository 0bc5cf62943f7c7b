package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain", errors.New("boom"), ExitErr},
		{"failed", Failed(errors.New("check failed")), ExitFailed},
		{"wrapped failed", fmt.Errorf("ctx: %w", Failed(errors.New("x"))), ExitFailed},
		{"silent", Silent, ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Fatalf("ExitCode = %d, want %d", got, tt.want)
			}
		})
	}
	if !IsSilent(Silent) || IsSilent(Failed(errors.New("x"))) {
		t.Fatal("IsSilent wrong")
	}
}

func TestParseFormat(t *testing.T) {
	if f, err := ParseFormat("", FormatTable, FormatJSON); err != nil || f != FormatTable {
		t.Fatalf("default: %v %v", f, err)
	}
	if f, err := ParseFormat("json", FormatTable, FormatJSON); err != nil || f != FormatJSON {
		t.Fatalf("json: %v %v", f, err)
	}
	_, err := ParseFormat("xml", FormatTable, FormatJSON)
	if err == nil || !strings.Contains(err.Error(), "-o/--output") || !strings.Contains(err.Error(), "table, json") {
		t.Fatalf("error does not name the flag and the choices: %v", err)
	}
}

func TestTableAndData(t *testing.T) {
	var b bytes.Buffer
	tb := NewTable(&b, "NAME", "READY")
	tb.Row("mongo-replicaset-rs0", "2/2")
	tb.Row("pum", "1/1")
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[2], "pum") {
		t.Fatalf("table:\n%s", b.String())
	}
	b.Reset()
	if err := WriteData(&b, FormatYAML, map[string]int{"a": 1}); err != nil || b.String() != "a: 1\n" {
		t.Fatalf("yaml: %q %v", b.String(), err)
	}
	if err := WriteData(&b, FormatTable, 1); err == nil {
		t.Fatal("table is not a data format")
	}
}

func TestUseColorHonoursNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	if UseColor(&bytes.Buffer{}, "auto") {
		t.Fatal("colour with NO_COLOR")
	}
	if !UseColor(&bytes.Buffer{}, "always") || UseColor(&bytes.Buffer{}, "never") {
		t.Fatal("always/never not honoured")
	}
}

func TestTableHasNoTrailingSpaces(t *testing.T) {
	var b bytes.Buffer
	tb := NewTable(&b, "A", "LONG HEADER")
	tb.Row("x", "")
	tb.Row("a much longer cell", "y")
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasSuffix(l, " ") {
			t.Fatalf("trailing space in %q", l)
		}
	}
	if !strings.Contains(b.String(), "a much longer cell   y") {
		t.Fatalf("columns not aligned:\n%s", b.String())
	}
}

// TestTableEscapesControlCharacters: text from outside (a certificate subject, an event, a dump)
// cannot drive the terminal or break the columns; a status mark keeps its colour.
func TestTableEscapesControlCharacters(t *testing.T) {
	var b strings.Builder
	tb := NewTable(&b, "NAME", "STATUS", "MESSAGE")
	tb.Row("a\x1b]0;owned\x07", "\x1b[32m✓\x1b[0m", "CN=evil\x1b[2J\x1b[H\ttab\rcr")
	tb.Row("bb", "\x1b[31m✗\x1b[0m", "ok")
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	// tablewriter resets the colour after a coloured cell's padding ("\x1b[0m" before the next cell).
	want := "NAME                STATUS   MESSAGE\n" +
		`a\x1b]0;owned\x07   ` + "\x1b[32m✓\x1b[0m        \x1b[0m" + `CN=evil\x1b[2J\x1b[H tab\rcr` + "\n" +
		"bb                  \x1b[31m✗\x1b[0m        \x1b[0mok\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

// TestRedactErrorsKeepsTheChain: an error whose message is rewritten (a secret masked, a key
// spelled) keeps its exit code and its chain, so that main still sees an interruption.
func TestRedactErrorsKeepsTheChain(t *testing.T) {
	ie := &InterruptedError{Signal: os.Interrupt}
	root := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error {
		return Failed(fmt.Errorf("stopped: continue with {flag:resume}: %w", ie))
	}}
	RedactErrors(root, func(s string) string { return strings.ReplaceAll(s, "{flag:resume}", "--resume") })
	root.SetArgs(nil)
	err := root.Execute()
	if err == nil || !strings.HasPrefix(err.Error(), "stopped: continue with --resume") || ExitCode(err) != ExitFailed || !errors.As(err, new(*InterruptedError)) {
		t.Errorf("err = %v (code %d)", err, ExitCode(err))
	}
}
