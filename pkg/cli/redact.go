package cli

import (
	"github.com/spf13/cobra"
)

// RedactErrors makes every command of the tree under root return its errors through redact (the
// Redactor of its output streams, and the filling of the library's keys): main prints them, and
// they must not show a secret either. The exit code of an ExitError is kept, and so is the chain
// (errors.As still finds an interruption), only the message changes.
func RedactErrors(root *cobra.Command, redact func(string) string) {
	wrap := func(f func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
		if f == nil {
			return nil
		}
		return func(c *cobra.Command, args []string) error {
			err := f(c, args)
			if err == nil || IsSilent(err) {
				return err
			}
			msg := err.Error()
			red := redact(msg)
			if red == msg {
				return err
			}
			return &ExitError{Err: &rewordedError{msg: red, err: err}, Code: ExitCode(err)}
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.RunE = wrap(c.RunE)
		c.PreRunE = wrap(c.PreRunE)
		c.PersistentPreRunE = wrap(c.PersistentPreRunE)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// rewordedError is err with another message.
type rewordedError struct {
	msg string
	err error
}

func (e *rewordedError) Error() string { return e.msg }
func (e *rewordedError) Unwrap() error { return e.err }
