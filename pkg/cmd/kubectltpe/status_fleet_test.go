package kubectltpe

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/fleet"
	"github.com/thingpark-tools/kubectl-tpe/pkg/status"
)

func TestFleetStatusRowsAndTable(t *testing.T) {
	backup := time.Date(2026, 12, 4, 2, 31, 9, 0, time.UTC)
	dash := func(release string, cs ...check.Check) *status.Dashboard {
		d := &status.Dashboard{Report: *check.NewReport("Status"), Namespace: "tpe", Release: status.ReleaseSection{Name: release}}
		d.Add(cs...)
		return d
	}
	healthy := dash("v7.3.1", check.Check{ID: "workloads.ready", Category: "Workloads", Status: check.Pass, Message: "9/9 ready"})
	healthy.PostUpgrade, healthy.LastSuccessfulBackup = "done", &backup
	broken := dash("v7.2.2c", check.Check{ID: "workloads.ready", Category: "Workloads", Status: check.Fail, Message: "0/1 ready",
		Details: []string{"Deployment/twa: no node"}, Remediation: "fix the causes above"})
	out := func(name string, err *fleet.RowError) fleet.Outcome {
		return fleet.Outcome{Installation: fleet.Installation{Name: name, Context: name}, Cluster: "https://" + name, Namespace: "tpe",
			KubernetesVersion: "v1.33.1", Error: err}
	}
	rs := []fleet.Result[*status.Dashboard]{
		{Outcome: out("prod", nil), Value: healthy},
		{Outcome: out("staging", nil), Value: broken},
		{Outcome: out("dr", &fleet.RowError{Kind: fleet.ErrUnauthorized, Message: "the API server refused the credentials"})},
	}
	doc := fleetStatus(rs)
	if s := doc.Summary; s.Total != 3 || s.OK != 1 || s.Failed != 1 || s.Unreadable != 1 {
		t.Errorf("summary %+v", s)
	}
	if r := doc.Installations[0]; r.Release != "v7.3.1" || r.Health != check.Pass || r.PostUpgrade != "done" || !r.LastSuccessfulBackup.Equal(backup) || len(r.Failing) != 0 {
		t.Errorf("prod row %+v", r)
	}
	if r := doc.Installations[1]; r.Health != check.Fail || len(r.Failing) != 1 {
		t.Errorf("staging row %+v", r)
	}
	var b bytes.Buffer
	if err := writeFleetStatus(&b, doc, false); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"prod https://prod tpe v7.3.1 PASS healthy done 2026-12-04T02:31:09Z v1.33.1",
		"ERROR (unauthorized)", "== staging (context staging, namespace tpe)", "FAIL workloads.ready 0/1 ready",
		"- Deployment/twa: no node", "to fix workloads.ready: fix the causes above", "unauthorized: the API server refused the credentials",
		"3 installation(s): 1 healthy or with warnings, 1 unhealthy, 1 could not be read",
	} {
		if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), s) {
			t.Errorf("the table lacks %q:\n%s", s, b.String())
		}
	}
	if code := cli.ExitCode(fleetcmd.Exit(doc.Summary.Unreadable, doc.Summary.Failed, doc.Summary.Total)); code != 1 {
		t.Errorf("exit code %d, want 1 (an installation could not be read)", code)
	}
}

func TestFleetFlagsBadInput(t *testing.T) {
	dup := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(dup, []byte("installations:\n- {name: a, context: x}\n- {name: a, context: y}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"status", "--context", "a", "--fleet", dup}, "give one of them"},
		{[]string{"status", "--all-contexts", "--fleet", dup}, "give one of them"},
		{[]string{"status", "--fleet", dup}, "--fleet: the fleet file " + dup + ": installations 1 and 2 are both named \"a\""},
		{[]string{"status", "--context", "a", "--context", "b", "--concurrency", "0"}, "--concurrency must be at least 1"},
		{[]string{"status", "--all-contexts", "--watch"}, "--watch follows one installation"},
		{[]string{"preflight", "--all-contexts", "--probe"}, "--network-test and --probe run with one installation"},
		{[]string{"preflight", "--all-contexts", "-o", "junit"}, "-o junit reports one installation"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
			root.SetArgs(append(tt.args, "--kubeconfig", filepath.Join(t.TempDir(), "none")))
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
