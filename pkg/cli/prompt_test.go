package cli

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// The library says it cannot ask; the command names the flag that answers in advance.
func TestNoTerminalNamesTheCommandsFlag(t *testing.T) {
	_, err := Confirm(strings.NewReader("yes\n"), io.Discard, "go?", false)
	if !errors.Is(err, ErrNoTerminal) || strings.Contains(err.Error(), "--") {
		t.Fatalf("Confirm from a reader = %v, want ErrNoTerminal naming no flag", err)
	}
	if got := NoTerminal(err, "--yes").Error(); got != "cannot ask for confirmation: stdin is not a terminal (pass --yes)" {
		t.Errorf("NoTerminal = %q", got)
	}
	if NoTerminal(nil, "--yes") != nil {
		t.Error("NoTerminal(nil) != nil")
	}
}
