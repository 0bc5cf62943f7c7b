// Package cli holds the plumbing shared by both plugins' command trees: output formats,
// tables, exit codes and version information. It holds no domain logic.
package cli

import (
	"errors"
	"fmt"
)

// Exit codes shared by kubectl-tpe and helm-tpe.
const (
	// ExitOK means the command did what was asked and every check passed.
	ExitOK = 0
	// ExitErr means the command could not do its job (bad input, API error, ...).
	ExitErr = 1
	// ExitFailed means the command ran, but a check failed, a wait timed out or drift was found.
	ExitFailed = 2
)

// ExitError carries an exit code with an error. main unwraps it with errors.As.
type ExitError struct {
	Err  error
	Code int
}

// Error implements error.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *ExitError) Unwrap() error { return e.Err }

// Failed returns an ExitError with code ExitFailed (checks failed, timeout, verdict failed).
func Failed(err error) error { return &ExitError{Err: err, Code: ExitFailed} }

// Silent is an ExitError with code ExitFailed and no message: the command already
// printed its verdict, main must only set the exit code.
var Silent = &ExitError{Code: ExitFailed}

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitErr
}

// IsSilent reports whether err must not be printed by main.
func IsSilent(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Err == nil
}
