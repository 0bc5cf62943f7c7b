package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// ExitInterrupted is the exit code after Ctrl-C (SIGINT), as shells report it (128 + 2); a
// SIGTERM gives 143 (128 + 15).
const ExitInterrupted = 130

// InterruptedError is the cause of the context InterruptContext cancels.
type InterruptedError struct{ Signal os.Signal }

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted (%s)", signalName(e.Signal))
}

// Code is the exit code for the signal: 128 + its number.
func (e *InterruptedError) Code() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitInterrupted
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "Ctrl-C"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// InterruptContext returns a context that the first SIGINT or SIGTERM cancels, with an
// *InterruptedError as its cause: reads, API requests and waits that honour it stop, and the
// command reports what was left. It writes one line to w when that happens. A second signal ends
// the process at once with exit code 130 (143 for SIGTERM). stop releases the signals.
func InterruptContext(parent context.Context, w io.Writer) (ctx context.Context, stop func()) {
	return interruptContext(parent, w, os.Exit)
}

func interruptContext(parent context.Context, w io.Writer, exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			fmt.Fprintf(w, "\n%s: stopping; press Ctrl-C again to exit at once\n", signalName(s))
			cancel(&InterruptedError{Signal: s})
		case <-done:
			return
		}
		select {
		case s := <-ch:
			e := &InterruptedError{Signal: s}
			fmt.Fprintf(w, "%s again: exiting now\n", signalName(s))
			exit(e.Code())
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// Interrupted returns the interruption that cancelled ctx, or nil.
func Interrupted(ctx context.Context) *InterruptedError {
	var ie *InterruptedError
	if errors.As(context.Cause(ctx), &ie) {
		return ie
	}
	return nil
}

// Finish maps the command's error to the exit code and to the line main prints (empty: nothing to
// print). After an interruption a failed command exits 130 (143 for SIGTERM) and its line says it
// was interrupted; a command that still completed keeps its own code.
func Finish(ctx context.Context, err error) (code int, msg string) {
	code = ExitCode(err)
	if err != nil && !IsSilent(err) {
		msg = err.Error()
	}
	ie := Interrupted(ctx)
	if ie == nil || err == nil {
		if msg != "" {
			msg = "error: " + msg
		}
		return code, msg
	}
	if !errors.As(err, new(*InterruptedError)) {
		msg = strings.TrimSuffix(ie.Error()+": "+msg, ": ")
	}
	return ie.Code(), "error: " + msg
}
