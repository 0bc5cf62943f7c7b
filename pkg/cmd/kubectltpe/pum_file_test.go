package kubectltpe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
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

// liveStatus runs the live `pum status` on an exec that prints dump. Its clock is zero, so the
// table's time column is the one of a saved dump (STATE SINCE, the dump's timestamps):
// TestPUMStatusFileStateTime checks that column on its own.
func liveStatus(t *testing.T, dump string) (stdout, stderr string, code int) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	o := NewPUMStatusOptions(streams)
	o.Exec, o.Namespace = &scriptedExec{outputs: []string{dump}}, "tpe"
	o.Now = func() time.Time { return time.Time{} }
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

// TestPUMStatusFileStateTime: for a saved dump the time column is the dump's own stateTimestamp
// (it was counted from now: "2y" for a dump of two years ago), "-" when an entry has none; the
// live status still shows how long each entry has been in its state.
func TestPUMStatusFileStateTime(t *testing.T) {
	sample, err := os.ReadFile("../../pum/testdata/upgrade-procedure-sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	noTime := "1 entrie(s)\nuid: 7\nrequestID: 'req-7'\nstate: 'INIT'\nerrorCounter: 0\niterationCounter: 0\n"
	dir := t.TempDir()
	tests := []struct {
		name, dump string
		want       []string
	}{
		{"timestamps of the dump", string(sample), []string{"STATE SINCE", "2022-06-27T14:05:11Z", "2022-06-27T14:14:11Z"}},
		{"no timestamp", noTime, []string{"STATE SINCE", "INIT    -             0"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(dir, fmt.Sprintf("dump%d.txt", i))
			if err := os.WriteFile(f, []byte(tt.dump), 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, _, err := runRoot(t, "", "pum", "status", "--file", f)
			if err != nil && cli.ExitCode(err) == 1 {
				t.Fatalf("error %v\n%s", err, errOut)
			}
			if strings.Contains(out, "IN STATE") {
				t.Errorf("a saved dump has an IN STATE column counted from now:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// The live status keeps the duration.
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	o := NewPUMStatusOptions(streams)
	o.Exec, o.Namespace = &scriptedExec{outputs: []string{string(sample)}}, "tpe"
	o.Now = func() time.Time { return time.Date(2022, 6, 27, 16, 5, 11, 0, time.UTC) }
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	_ = o.Run(t.Context())
	if !strings.Contains(out.String(), "IN STATE") || !strings.Contains(out.String(), "2h") {
		t.Errorf("live status lacks IN STATE 2h:\n%s", out)
	}
}

// TestPUMStatusHelpSample: the dump shown in `pum status --help` is one that --file reads, with
// no warning.
func TestPUMStatusHelpSample(t *testing.T) {
	var dump []string
	for _, l := range strings.Split(pumStatusLong, "\n") {
		if strings.HasPrefix(l, "\t\t    ") {
			dump = append(dump, strings.TrimSpace(l))
		}
	}
	if len(dump) < 5 {
		t.Fatalf("the help shows no sample dump:\n%s", pumStatusLong)
	}
	st, err := pum.ReadDump(strings.NewReader(strings.Join(dump, "\n")), "help sample")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Entries) != 1 || st.Verdict != pum.Done || len(st.Warnings) != 0 {
		t.Errorf("help sample read as %d entries, verdict %q, warnings %q", len(st.Entries), st.Verdict, st.Warnings)
	}
}
