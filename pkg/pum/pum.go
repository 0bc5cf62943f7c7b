package pum

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// Deployment is the Deployment that runs the post-upgrade manager; Job is the Job that runs
// the post-upgrade procedure (its logs are the procedure's logs).
const (
	Deployment = "pum"
	Job        = "pum-process"
)

// Target is the exec target of the PUM commands in namespace.
func Target(namespace string) podexec.Target {
	return podexec.Target{Namespace: namespace, Deployment: Deployment}
}

// StatusCommands are the commands that print the post-upgrade status in deploy/pum, in the order
// Get tries them: `status`, as the TPE upgrade procedure runs it (7.x), then the command the
// vendor's audit script runs on its main branch (8.0), `/nodejs/bin/node app.js display`, for a
// manager image without the `status` wrapper. The second is tried only when the first is not found
// in the container.
var StatusCommands = [][]string{{"status"}, {"/nodejs/bin/node", "app.js", "display"}}

// commandNotFound reports whether an exec failed because the container has no such command
// (exit code 126 or 127, or the runtime's "executable file not found").
func commandNotFound(err error) bool {
	var ce interface{ ExitStatus() int }
	if errors.As(err, &ce) && (ce.ExitStatus() == 126 || ce.ExitStatus() == 127) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory")
}

// Get runs the status command (StatusCommands) in a ready pod of deploy/pum and parses its output.
func Get(ctx context.Context, ex podexec.Executor, namespace string) (*Status, error) {
	var res podexec.Result
	var err error
	for _, cmd := range StatusCommands {
		res, err = ex.Exec(ctx, Target(namespace), cmd, nil)
		if err == nil || !commandNotFound(err) {
			break
		}
	}
	if err != nil {
		if ns := notShipped(err, namespace); ns != nil {
			return nil, ns
		}
		return nil, fmt.Errorf("reading the post-upgrade status: %w", withStderr(err, res.Stderr))
	}
	st, err := Parse(res.Stdout)
	if err != nil {
		if strings.TrimSpace(res.Stdout) == "" && strings.TrimSpace(res.Stderr) != "" {
			return nil, fmt.Errorf("`status` in pod %s printed nothing on stdout; stderr: %s", res.Pod, text.OneLine(res.Stderr, 500))
		}
		return nil, err
	}
	st.Pod = res.Pod
	return st, nil
}

// WaitTimeoutError is returned by Wait when ctx expires before the verdict is done or failed.
type WaitTimeoutError struct {
	// Last is the last status read (nil if none could be read).
	Last *Status
	// LastErr is the last error met while reading the status, if any.
	LastErr error
}

// Error implements error.
func (e *WaitTimeoutError) Error() string {
	switch {
	case e.Last != nil && e.LastErr != nil:
		return fmt.Sprintf("timed out waiting for the post-upgrade procedure (last verdict %q; last error: %v)", e.Last.Verdict, e.LastErr)
	case e.Last != nil:
		return fmt.Sprintf("timed out waiting for the post-upgrade procedure (last verdict %q, %d of %d entries finished)", e.Last.Verdict, finished(e.Last), len(e.Last.Entries))
	case e.LastErr != nil:
		return fmt.Sprintf("timed out waiting for the post-upgrade procedure: %v", e.LastErr)
	}
	return "timed out waiting for the post-upgrade procedure"
}

// Unwrap makes errors.Is(err, context.DeadlineExceeded) true.
func (e *WaitTimeoutError) Unwrap() error { return context.DeadlineExceeded }

func finished(s *Status) int {
	n := 0
	for _, e := range s.Entries {
		if e.Finished() {
			n++
		}
	}
	return n
}

// Wait reads the status every interval until the verdict is done or failed, and returns that
// status. ctx carries the timeout: when it expires, Wait returns the last status and a
// *WaitTimeoutError. Errors while reading (the pod restarting, a half-written dump) are retried
// until then, but a missing deploy/pum (*NotShippedError) is returned at once; progress (may be
// nil) is called with every status read.
func Wait(ctx context.Context, ex podexec.Executor, namespace string, interval time.Duration, progress func(*Status)) (*Status, error) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	var last *Status
	var lastErr error
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return last, &WaitTimeoutError{Last: last, LastErr: lastErr}
			}
			return last, fmt.Errorf("waiting for the post-upgrade procedure: %w", ctx.Err())
		case <-t.C:
		}
		st, err := Get(ctx, ex, namespace)
		var ns *NotShippedError
		switch {
		case errors.As(err, &ns):
			return nil, err // no manager: nothing will ever answer
		case err != nil:
			if ctx.Err() == nil {
				lastErr = err
			}
		default:
			last, lastErr = st, nil
			if progress != nil {
				progress(st)
			}
			if st.Verdict == Done || st.Verdict == Failed {
				return st, nil
			}
		}
		t.Reset(interval)
	}
}

// Restart runs `restart` in deploy/pum, which starts the post-upgrade procedure again, and
// returns what it printed.
func Restart(ctx context.Context, ex podexec.Executor, namespace string) (string, error) {
	res, err := ex.Exec(ctx, Target(namespace), []string{"restart"}, nil)
	out := strings.TrimRight(res.Stdout, "\n")
	if ns := notShipped(err, namespace); ns != nil {
		return out, ns
	}
	if err != nil {
		return out, fmt.Errorf("restarting the post-upgrade procedure: %w", withStderr(err, res.Stderr))
	}
	return out, nil
}

func withStderr(err error, stderr string) error {
	if s := strings.TrimSpace(stderr); s != "" {
		return fmt.Errorf("%w (stderr: %s)", err, text.OneLine(s, 500))
	}
	return err
}
