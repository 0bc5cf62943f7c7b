package pum

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
)

// fakeExec answers each exec with the next scripted reply and records the commands.
type fakeExec struct {
	mu      sync.Mutex
	replies []reply
	calls   [][]string
	targets []podexec.Target
}

type reply struct {
	stdout, stderr string
	err            error
}

func (f *fakeExec) Exec(_ context.Context, t podexec.Target, cmd []string, _ io.Reader) (podexec.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, cmd)
	f.targets = append(f.targets, t)
	r := f.replies[0]
	if len(f.replies) > 1 {
		f.replies = f.replies[1:]
	}
	return podexec.Result{Pod: "pum-abc", Stdout: r.stdout, Stderr: r.stderr}, r.err
}

func TestGet(t *testing.T) {
	ex := &fakeExec{replies: []reply{{stdout: sample(t)}}}
	st, err := Get(t.Context(), ex, "tpe")
	if err != nil {
		t.Fatal(err)
	}
	if st.Pod != "pum-abc" || st.Verdict != InProgress || len(st.Entries) != 2 {
		t.Errorf("status = %+v", st)
	}
	if got := ex.targets[0]; got.Namespace != "tpe" || got.Deployment != "pum" || strings.Join(ex.calls[0], " ") != "status" {
		t.Errorf("exec %+v %q", got, ex.calls[0])
	}
}

func TestGetErrors(t *testing.T) {
	tests := []struct {
		name string
		r    reply
		want string
	}{
		{"exec fails", reply{err: errors.New("not allowed to exec"), stderr: "oops"}, "not allowed to exec (stderr: oops)"},
		{"no pod", reply{err: &podexec.NoReadyPodError{Reason: "0 pods"}}, "no ready pod"},
		{"stderr only", reply{stderr: "status: command not found"}, "command not found"},
		{"garbled", reply{stdout: "1 entrie(s)\nuid: 1\n"}, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Get(t.Context(), &fakeExec{replies: []reply{tt.r}}, "tpe")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWait(t *testing.T) {
	progress := "1 entrie(s)\n" + entry("1", "IN_PROGRESS")
	done := "1 entrie(s)\n" + entry("1", "PROCESSED")
	aborted := "1 entrie(s)\n" + entry("1", "ABORTED")
	tests := []struct {
		name    string
		replies []reply
		want    Verdict
		calls   int
		timeout bool
	}{
		{"progress then done", []reply{{stdout: progress}, {err: errors.New("pod restarting")}, {stdout: done}}, Done, 3, false},
		{"aborted stops", []reply{{stdout: progress}, {stdout: aborted}}, Failed, 2, false},
		{"done at once", []reply{{stdout: done}}, Done, 1, false},
		{"times out", []reply{{stdout: progress}}, InProgress, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := &fakeExec{replies: tt.replies}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			var seen int
			st, err := Wait(ctx, ex, "tpe", 10*time.Millisecond, func(*Status) { seen++ })
			if tt.timeout {
				var te *WaitTimeoutError
				if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want a timeout", err)
				}
				if st == nil || st.Verdict != tt.want || !strings.Contains(err.Error(), "in progress") {
					t.Errorf("last = %+v, err %v", st, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Verdict != tt.want || len(ex.calls) != tt.calls {
				t.Errorf("verdict %q after %d calls, want %q after %d", st.Verdict, len(ex.calls), tt.want, tt.calls)
			}
			if seen == 0 {
				t.Error("progress never called")
			}
		})
	}
}

func TestRestart(t *testing.T) {
	ex := &fakeExec{replies: []reply{{stdout: "post-upgrade procedure restarted\n"}}}
	out, err := Restart(t.Context(), ex, "tpe")
	if err != nil || out != "post-upgrade procedure restarted" || ex.calls[0][0] != "restart" {
		t.Errorf("Restart = %q, %v (calls %q)", out, err, ex.calls)
	}
	_, err = Restart(t.Context(), &fakeExec{replies: []reply{{err: errors.New("forbidden")}}}, "tpe")
	if err == nil || !strings.Contains(err.Error(), "restarting the post-upgrade procedure") {
		t.Errorf("err = %v", err)
	}
}

// exitError is an exec failure with an exit code, as client-go's exec.CodeExitError.
type exitError struct{ code int }

func (e exitError) Error() string   { return fmt.Sprintf("command terminated with exit code %d", e.code) }
func (e exitError) ExitStatus() int { return e.code }

func TestGetFallsBackToTheManagersOwnCommand(t *testing.T) {
	tests := []struct {
		name    string
		first   error
		calls   int
		wantErr string
	}{
		{"status found (7.x)", nil, 1, ""},
		{"exit 127 (8.0: no status wrapper)", exitError{127}, 2, ""},
		{"runtime says not found", errors.New(`exec: "status": executable file not found in $PATH: unknown`), 2, ""},
		{"another failure is not retried", exitError{1}, 1, "exit code 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := reply{stdout: sample(t)}
			if tt.first != nil {
				first = reply{err: tt.first}
			}
			ex := &fakeExec{replies: []reply{first, {stdout: sample(t)}}}
			st, err := Get(t.Context(), ex, "tpe")
			if len(ex.calls) != tt.calls {
				t.Errorf("%d execs %q, want %d", len(ex.calls), ex.calls, tt.calls)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || st.Verdict != InProgress {
				t.Fatalf("Get = %+v, %v", st, err)
			}
			if tt.calls == 2 && strings.Join(ex.calls[1], " ") != "/nodejs/bin/node app.js display" {
				t.Errorf("second command %q", ex.calls[1])
			}
		})
	}
}
