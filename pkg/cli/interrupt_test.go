package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptContext: the first SIGINT cancels the context with an InterruptedError and says
// so; the second exits with 130 at once.
func TestInterruptContext(t *testing.T) {
	var out bytes.Buffer
	exited := make(chan int, 1)
	ctx, stop := interruptContext(context.Background(), &out, func(code int) { exited <- code })
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the first SIGINT did not cancel the context")
	}
	if ie := Interrupted(ctx); ie == nil || ie.Code() != ExitInterrupted {
		t.Fatalf("cause %v, want an interruption with code 130", context.Cause(ctx))
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != 130 {
			t.Fatalf("second SIGINT exits %d, want 130", code)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the second SIGINT did not exit")
	}
	if !strings.Contains(out.String(), "Ctrl-C: stopping; press Ctrl-C again to exit at once") {
		t.Errorf("no line on the first signal: %q", out.String())
	}
}

func TestFinish(t *testing.T) {
	interrupted, cancel := context.WithCancelCause(context.Background())
	cancel(&InterruptedError{Signal: syscall.SIGTERM})
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		code int
		msg  string
	}{
		{"ok", context.Background(), nil, 0, ""},
		{"error", context.Background(), errors.New("boom"), 1, "error: boom"},
		{"silent", context.Background(), Silent, 2, ""},
		{"interrupted API call", interrupted, fmt.Errorf("listing pods: %w", context.Canceled), 143, "error: interrupted (SIGTERM): listing pods: context canceled"},
		{"interrupted read names itself", interrupted, fmt.Errorf("reading x: %w", &InterruptedError{Signal: syscall.SIGTERM}), 143, "error: reading x: interrupted (SIGTERM)"},
		{"interrupted after a verdict", interrupted, Silent, 143, "error: interrupted (SIGTERM)"},
		{"completed despite the signal", interrupted, nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := Finish(tt.ctx, tt.err)
			if code != tt.code || msg != tt.msg {
				t.Fatalf("Finish = %d %q, want %d %q", code, msg, tt.code, tt.msg)
			}
		})
	}
}
