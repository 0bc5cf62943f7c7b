package kubectltpe

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
)

// scriptedExec answers `status` with the scripted outputs in turn (the last one repeats) and
// records every command.
type scriptedExec struct {
	mu      sync.Mutex
	outputs []string
	cmds    []string
}

func (s *scriptedExec) Exec(_ context.Context, t podexec.Target, cmd []string, _ io.Reader) (podexec.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cmds = append(s.cmds, t.Deployment+" "+strings.Join(cmd, " "))
	if cmd[0] == "restart" {
		return podexec.Result{Pod: "pum-1", Stdout: "restarted\n"}, nil
	}
	out := s.outputs[0]
	if len(s.outputs) > 1 {
		s.outputs = s.outputs[1:]
	}
	return podexec.Result{Pod: "pum-1", Stdout: out}, nil
}

func pumEntry(uid, state string) string {
	return "uid: " + uid + "\nrequestID: 'req-" + uid + "'\nscope: 'ALL'\nstate: '" + state + "'\nstateTimestamp: '2026-11-23T11:00:00.000Z'\n" +
		"lastResponse: '{\"status\":500,\"message\":\"db down\"}'\nerrorCounter: 2\niterationCounter: 3\n"
}

func TestPUMStatusCommand(t *testing.T) {
	t.Parallel()
	done := "2 entrie(s)\n" + pumEntry("1", "PROCESSED") + pumEntry("2", "SKIPPED")
	progress := "1 entrie(s)\n" + pumEntry("1", "TRANSIENT_ERROR")
	aborted := "1 entrie(s)\n" + pumEntry("1", "ABORTED")
	tests := []struct {
		name     string
		outputs  []string
		wait     bool
		output   string
		code     int
		contains []string
	}{
		{"done", []string{done}, false, "table", 0, []string{"req-1", "PROCESSED", "1h", "Verdict: done (2 of 2"}},
		{"in progress", []string{progress}, false, "table", 0, []string{"TRANSIENT_ERROR", "Verdict: in progress"}},
		{"failed shows the last response", []string{aborted}, false, "table", 2, []string{"Verdict: failed", `ABORTED req-1: last response {"status":500,"message":"db down"}`, "pum restart"}},
		{"wait until done", []string{progress, progress, done}, true, "table", 0, []string{"Verdict: done"}},
		{"wait times out", []string{progress}, true, "table", 2, []string{"Verdict: in progress"}},
		{"json", []string{aborted}, false, "json", 2, []string{`"verdict": "failed"`, `"lastResponse": {`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			o := NewPUMStatusOptions(streams)
			o.Exec, o.Namespace, o.Output, o.Wait = &scriptedExec{outputs: tt.outputs}, "tpe", tt.output, tt.wait
			o.Interval, o.Timeout = 10*time.Millisecond, 300*time.Millisecond
			o.Now = func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			err := o.Run(t.Context())
			if got := cli.ExitCode(err); got != tt.code {
				t.Errorf("exit code %d, want %d (err %v)", got, tt.code, err)
			}
			for _, w := range tt.contains {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s\nstderr:\n%s", w, out, errOut)
				}
			}
			if tt.output == "json" && !json.Valid(out.Bytes()) {
				t.Errorf("not JSON: %s", out)
			}
		})
	}
}

func TestPUMStatusValidate(t *testing.T) {
	t.Parallel()
	for _, o := range []*PUMStatusOptions{
		{Output: "xml", Interval: time.Second},
		{Output: "table", Wait: true, Timeout: 0, Interval: time.Second},
		{Output: "table", Interval: 0},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", o)
		}
	}
}

func TestPUMRestartCommand(t *testing.T) {
	t.Parallel()
	done := "1 entrie(s)\n" + pumEntry("1", "PROCESSED")
	yes, no := true, false
	tests := []struct {
		name        string
		yesFlag     bool
		interactive *bool
		stdin       string
		restarted   bool
		errContains string
	}{
		{"no terminal, no --yes", false, &no, "", false, "pass --yes"},
		{"--yes", true, &no, "", true, ""},
		{"confirmed", false, &yes, "y\n", true, ""},
		{"declined", false, &yes, "n\n", false, "not restarted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, in, out, _ := genericiooptions.NewTestIOStreams()
			in.WriteString(tt.stdin)
			ex := &scriptedExec{outputs: []string{done}}
			o := &PUMRestartOptions{Yes: tt.yesFlag, Namespace: "tpe", Exec: ex, Interactive: tt.interactive, IOStreams: streams}
			err := o.Run(t.Context())
			if tt.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errContains) {
					t.Fatalf("err = %v, want %q", err, tt.errContains)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			restarted := len(ex.cmds) > 0 && ex.cmds[0] == "pum restart"
			if restarted != tt.restarted {
				t.Errorf("restarted = %v, want %v (cmds %q)", restarted, tt.restarted, ex.cmds)
			}
			if tt.restarted && (len(ex.cmds) != 2 || !strings.Contains(out.String(), "Verdict: done")) {
				t.Errorf("status not shown after restart: %q\n%s", ex.cmds, out)
			}
		})
	}
}

// TestPUMLogs: the command passes its flags to pum.Logs and prints to Out (pkg/pum tests the
// streaming itself).
func TestPUMLogs(t *testing.T) {
	t.Parallel()
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pum-process", Namespace: "tpe"},
		Spec: batchv1.JobSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"job-name": "pum-process"}}}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pum-process-1", Namespace: "tpe", Labels: map[string]string{"job-name": "pum-process"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "pum-process"}}}}
	c := fake.NewClientset(job, pod)
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	o := &PUMLogsOptions{Namespace: "tpe", Client: c, Since: 10 * time.Minute, IOStreams: streams}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := o.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := "[pum-process-1/pum-process] fake logs\n"; out.String() != want {
		t.Errorf("logs = %q, want %q", out, want)
	}
	for _, a := range c.Actions() {
		if a.GetSubresource() == "log" {
			if lo := a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions); lo.SinceSeconds == nil || *lo.SinceSeconds != 600 {
				t.Errorf("--since 10m not passed on: %+v", lo)
			}
		}
	}
	if err := (&PUMLogsOptions{Since: -time.Second}).Validate(); err == nil {
		t.Error("--since -1s accepted")
	}
}

// TestPUMNotShipped: with the charts of a release installed but no deploy/pum, the three commands
// say that the release has no post-upgrade manager, instead of an exec or "job not found" error.
func TestPUMNotShipped(t *testing.T) {
	m := manifest.MustLoad()
	r80, _ := m.Get("v8.0.0")
	c := fake.NewClientset()
	for _, ch := range r80.Charts() {
		s, err := helmstore.Secret(helmstore.Release{Name: ch.ReleaseName, Namespace: "tpe", Revision: 1, Status: "deployed",
			Chart: ch.Chart, ChartVersion: ch.Version}, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CoreV1().Secrets("tpe").Create(t.Context(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ex := podexec.Kube{Client: c}
	want := "the release installed in namespace tpe, TPE v8.0.0 (thingpark-enterprise-2.0.0), has no post-upgrade manager"

	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	st := NewPUMStatusOptions(streams)
	st.Exec, st.Namespace = ex, "tpe"
	if err := st.Run(t.Context()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("status: %v", err)
	}
	st.Wait, st.Timeout, st.Interval = true, time.Minute, time.Millisecond
	if err := st.Run(t.Context()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("status --wait: %v", err)
	}
	rs := &PUMRestartOptions{Exec: ex, Namespace: "tpe", Yes: true, IOStreams: streams}
	if err := rs.Run(t.Context()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("restart: %v", err)
	}
	lo := &PUMLogsOptions{Namespace: "tpe", Client: c, IOStreams: streams}
	if err := lo.Run(t.Context()); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("logs: %v", err)
	}
}
