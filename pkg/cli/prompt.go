package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"
)

// IsTerminal reports whether s (a reader or a writer of the process, or a stream wrapping one
// that tells its descriptor, as redact.Writer does) is an interactive terminal.
func IsTerminal(s any) bool {
	f, ok := s.(interface{ Fd() uintptr })
	return ok && f.Fd() != ^uintptr(0) && term.IsTerminal(int(f.Fd()))
}

// ErrNoTerminal is returned by Confirm when it cannot ask (stdin is not a terminal); the command
// adds the flag that answers in advance (NoTerminal).
var ErrNoTerminal = errors.New("cannot ask for confirmation: stdin is not a terminal")

// NoTerminal words ErrNoTerminal with the flag that answers in advance ("--yes").
func NoTerminal(err error, yesFlag string) error {
	if errors.Is(err, ErrNoTerminal) {
		return fmt.Errorf("%w (pass %s)", err, yesFlag)
	}
	return err
}

// Confirm asks a yes/no question on errOut and reads the answer from in, which must be a
// terminal. Only "yes" agrees when strict, "yes" or "y" otherwise.
func Confirm(in io.Reader, errOut io.Writer, prompt string, strict bool) (bool, error) {
	if !IsTerminal(in) {
		return false, ErrNoTerminal
	}
	return ReadAnswer(in, errOut, prompt, strict)
}

// ReadAnswer is Confirm without the terminal check (tests feed it a reader).
func ReadAnswer(in io.Reader, errOut io.Writer, prompt string, strict bool) (bool, error) {
	fmt.Fprintf(errOut, "%s [yes/no]: ", prompt)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(line))
	if strict {
		return a == "yes", nil
	}
	return a == "yes" || a == "y", nil
}
