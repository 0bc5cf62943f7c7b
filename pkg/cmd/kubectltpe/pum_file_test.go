package kubectltpe

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

// runRoot runs `kubectl tpe ARGS` through the whole command tree with stdin and no kubeconfig
// (KUBECONFIG names a file that does not exist).
func runRoot(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int, err error) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "no-such-kubeconfig"))
	streams, in, out, errOut := genericiooptions.NewTestIOStreams()
	in.WriteString(stdin)
	root := NewCmdRoot(streams)
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), cli.ExitCode(err), err
}

// liveStatus runs the live `pum status` on an exec that prints dump.
func liveStatus(t *testing.T, dump string) (stdout, stderr string, code int) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewPUMStatusOptions(streams)
	o.Exec, o.Namespace = &scriptedExec{outputs: []string{dump}}, "tpe"
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	err := o.Run(t.Context())
	return out.String(), errOut.String(), cli.ExitCode(err)
}

func utf16LE(s string) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xFE})
	for _, u := range utf16.Encode([]rune(s)) {
		_ = binary.Write(&b, binary.LittleEndian, u)
	}
	return b.Bytes()
}

// TestPUMStatusFile: a saved dump is judged exactly as the live status (same table, verdict,
// warnings and exit code), without a kubeconfig, whether it comes from a file or stdin, with
// CRLF line ends, without a final newline, or with the shell prompt pasted around it.
func TestPUMStatusFile(t *testing.T) {
	sample, err := os.ReadFile("../../pum/testdata/upgrade-procedure-sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	aborted := "1 entrie(s)\n" + pumEntry("1", "ABORTED")
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	tests := []struct {
		name  string
		live  string // what the pod prints
		saved []byte // what the customer sent
		stdin bool
		code  int
		// extraWarnings are warnings the saved form adds to the live ones.
		extraWarnings []string
	}{
		{name: "sample as saved", live: string(sample), saved: sample, code: 0},
		{name: "CRLF", live: string(sample), saved: []byte(crlf(string(sample))), code: 0},
		{name: "CRLF on stdin", live: string(sample), saved: []byte(crlf(string(sample))), stdin: true, code: 0},
		{name: "no final newline", live: string(sample), saved: bytes.TrimRight(sample, "\n"), code: 0},
		{name: "prompt lines around, CRLF, no final newline", live: string(sample),
			saved: []byte("admin@bastion:~$ kubectl exec deploy/pum -- status\r\n" + crlf(string(sample)) + "admin@bastion:~$ "),
			code:  0, extraWarnings: []string{`ignored line 1 before the first entry: "admin@bastion:~$ kubectl exec deploy/pum -- status"`, `after the last entry: "admin@bastion:~$"`}},
		{name: "UTF-16 from PowerShell", live: string(sample), saved: utf16LE(crlf(string(sample))), code: 0},
		{name: "failed verdict on stdin", live: aborted, saved: []byte(crlf(aborted)), stdin: true, code: 2},
		// What a terminal's `kubectl exec -it` can give: states coloured with ANSI codes (ABORTED was
		// read as an unknown state, "in progress", exit 0).
		{name: "ANSI colours", live: aborted, saved: []byte(strings.ReplaceAll(crlf(aborted), "'ABORTED'", "\x1b[1;31m'ABORTED'\x1b[0m")), code: 2},
		{name: "ANSI colours inside the quotes", live: aborted, saved: []byte(strings.ReplaceAll(aborted, "ABORTED", "\x1b[31mABORTED\x1b[m")), code: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantOut, wantErr, wantCode := liveStatus(t, tt.live)
			if wantCode != tt.code {
				t.Fatalf("live exit code %d, want %d", wantCode, tt.code)
			}
			var out, errOut string
			var code int
			if tt.stdin {
				out, errOut, code, _ = runRoot(t, string(tt.saved), "pum", "status", "--file", "-")
			} else {
				f := filepath.Join(t.TempDir(), "pum-status.txt")
				if err := os.WriteFile(f, tt.saved, 0o600); err != nil {
					t.Fatal(err)
				}
				out, errOut, code, _ = runRoot(t, "", "pum", "status", "--file", f)
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if out != wantOut {
				t.Errorf("stdout differs from the live command:\n%s\nwant:\n%s", out, wantOut)
			}
			for _, w := range strings.Split(strings.TrimSpace(wantErr), "\n") {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks the live warning %q:\n%s", w, errOut)
				}
			}
			for _, w := range tt.extraWarnings {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestPUMStatusFileErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "stack.txt")
	if err := os.WriteFile(garbage, []byte("Exception in thread main\n\tat com.example.Main\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "cut.txt")
	if err := os.WriteFile(truncated, []byte("1 entrie(s)\r\nuid: 1\r\nrequestID: 'x'\r\nstate: 'PROCESSED'\r\nuser@host:~$ "), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not the format", []string{"--file", garbage}, garbage + ": cannot parse the pum status output"},
		{"a prompt after a cut entry is still a cut entry", []string{"--file", truncated}, "truncated entry"},
		{"missing file", []string{"--file", filepath.Join(dir, "nope.txt")}, "--file: open"},
		{"--wait", []string{"--file", garbage, "--wait"}, "--wait cannot be used with --file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, code, err := runRoot(t, "", append([]string{"pum", "status"}, tt.args...)...)
			if code != 1 || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("exit %d, err %v; want exit 1 and %q", code, err, tt.want)
			}
		})
	}
}
