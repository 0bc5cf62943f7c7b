package pum

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// sample is the status dump printed in the TPE upgrade procedure.
func sample(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/upgrade-procedure-sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func entry(uid, state string) string {
	s := "uid: " + uid + "\nrequestID: 'req-" + uid + "'\n"
	if state != "-" {
		s += "state: '" + state + "'\n"
	}
	return s + "lastResponse: '{\"status\":500,\"message\":\"boom\"}'\nerrorCounter: 1\niterationCounter: 2\n"
}

func TestParseSample(t *testing.T) {
	st, err := Parse(sample(t))
	if err != nil {
		t.Fatalf("Parse(sample of the TPE upgrade procedure): %v", err)
	}
	if len(st.Entries) != 2 {
		t.Fatalf("got %d entries, want 2", len(st.Entries))
	}
	e0, e1 := st.Entries[0], st.Entries[1]
	if e0.UID != "2" || e0.State != StateProcessed || e0.RequestBody != `{ "max" : 10 }` || e0.IterationCounter != 5 ||
		e0.Scope != "ALL" || e0.ServiceID != "TWA" || e0.CreationTimestamp != "2022-06-23T13:50:33.000Z" ||
		e0.RequestPath != "/thingpark/wireless/rest/systems/demons/migrateBsSecurity" || e0.StateTimestamp != "2022-06-27T14:05:11.000Z" {
		t.Errorf("first entry = %+v", e0)
	}
	var resp struct {
		Status int `json:"status"`
	}
	if err := json.Unmarshal(e0.LastResponse, &resp); err != nil || resp.Status != 200 {
		t.Errorf("lastResponse %s: %v", e0.LastResponse, err)
	}
	if e1.UID != "4" || e1.State != "" || e1.DisplayState() != "unknown" || e1.Scope != "TPE-OCP" || e1.IterationCounter != 2 {
		t.Errorf("second entry = %+v", e1)
	}
	if st.Verdict != InProgress {
		t.Errorf("verdict = %q, want %q (missing state is not done)", st.Verdict, InProgress)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "RDTP-18480") || !strings.Contains(st.Warnings[0], "no state") {
		t.Errorf("warnings = %q", st.Warnings)
	}
	if st.Raw != sample(t) {
		t.Error("Raw is not the input")
	}
}

func TestParseVerdicts(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		verdict   Verdict
		nWarnings int
	}{
		{"all processed or skipped", "2 entrie(s)\n" + entry("1", "PROCESSED") + entry("2", "SKIPPED"), Done, 0},
		{"zero entries", "0 entrie(s)\n", Done, 1},
		{"init", "2 entrie(s)\n" + entry("1", "PROCESSED") + entry("2", "INIT"), InProgress, 0},
		{"in progress", "1 entrie(s)\n" + entry("1", "IN_PROGRESS"), InProgress, 0},
		{"partially processed", "1 entrie(s)\n" + entry("1", "PARTIALLY_PROCESSED"), InProgress, 0},
		{"transient error", "1 entrie(s)\n" + entry("1", "TRANSIENT_ERROR"), InProgress, 0},
		{"aborted wins", "3 entrie(s)\n" + entry("1", "INIT") + entry("2", "ABORTED") + entry("3", "-"), Failed, 1},
		{"unknown state", "1 entrie(s)\n" + entry("1", "FROBNICATED"), InProgress, 1},
		{"empty state", "1 entrie(s)\nuid: 1\nrequestID: 'r'\nstate: ''\nerrorCounter: 0\niterationCounter: 0", InProgress, 1},
		{"missing state only", "1 entrie(s)\n" + entry("1", "-"), InProgress, 1},
		{"no header", entry("1", "PROCESSED"), Done, 1},
		{"crlf", strings.ReplaceAll("1 entrie(s)\n"+entry("1", "PROCESSED"), "\n", "\r\n"), Done, 0},
		{"no final newline", strings.TrimSuffix("1 entrie(s)\n"+entry("1", "PROCESSED"), "\n"), Done, 0},
		{"reordered and extra fields", "2 entries\nrequestID: 'a'\nuid: 1\nstate: 'PROCESSED'\nowner: 'x'\niterationCounter: 1\nerrorCounter: 0\nrequestID: 'b'\nuid: 2\nstate: 'SKIPPED'\niterationCounter: 1\nerrorCounter: 0\n", Done, 1},
		{"blank lines and a banner", "Post upgrade manager\n\n1 entrie(s)\n\n" + entry("1", "PROCESSED") + "\n", Done, 1},
		{"multi-line quoted value", "1 entrie(s)\nuid: 1\nrequestID: 'a\n  b'\nstate: 'PROCESSED'\nerrorCounter: 0\niterationCounter: 0\n", Done, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Parse(tt.raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if st.Verdict != tt.verdict {
				t.Errorf("verdict = %q, want %q", st.Verdict, tt.verdict)
			}
			if len(st.Warnings) != tt.nWarnings {
				t.Errorf("warnings = %q, want %d", st.Warnings, tt.nWarnings)
			}
		})
	}
}

func TestParseExtraAndLastResponse(t *testing.T) {
	st, err := Parse("1 entrie(s)\nuid: 1\nrequestID: 'r'\nstate: 'ABORTED'\nlastResponse: 'not json'\nnewThing: 'v'\nerrorCounter: 3\niterationCounter: 4\n")
	if err != nil {
		t.Fatal(err)
	}
	e := st.Entries[0]
	if string(e.LastResponse) != `"not json"` {
		t.Errorf("lastResponse = %s, want a JSON string", e.LastResponse)
	}
	if e.Extra["newThing"] != "v" || e.ErrorCounter != 3 {
		t.Errorf("entry = %+v", e)
	}
	if got := st.Aborted(); len(got) != 1 || got[0].UID != "1" {
		t.Errorf("Aborted() = %+v", got)
	}
	b, err := json.Marshal(st)
	if err != nil || !strings.Contains(string(b), `"verdict":"failed"`) || strings.Contains(string(b), "Raw") {
		t.Errorf("json = %s (%v)", b, err)
	}
}

func TestParseErrors(t *testing.T) {
	s := sample(t)
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"empty", "", "empty"},
		{"blank", "\r\n\n", "empty"},
		{"truncated last entry", s[:strings.Index(s, "errorCounter: 0\niterationCounter: 2")], "truncated"},
		{"truncated inside a quote", s[:strings.LastIndex(s, "result")], "no closing quote"},
		{"count mismatch", strings.Replace(s, "2 entrie(s)", "3 entrie(s)", 1), "announces 3"},
		{"fewer announced", strings.Replace(s, "2 entrie(s)", "1 entrie(s)", 1), "announces 1"},
		{"garbled line", "1 entrie(s)\nuid: 1\nthis is not a field\nrequestID: 'r'\n", "not a \"key: value\""},
		{"garbled last line cuts the entry", "1 entrie(s)\nuid: 1\nthis is not a field\n", "truncated entry"},
		{"prompt after a complete entry but a count that does not match", "2 entrie(s)\n" + entry("1", "INIT") + "user@host:~$ ", "announces 2"},
		{"stray quote", "1 entrie(s)\nuid: 'a'b'\nrequestID: 'r'\nerrorCounter: 0\niterationCounter: 0\n", "stray quote"},
		{"two headers", "1 entrie(s)\n1 entrie(s)\n" + entry("1", "INIT"), "second entry-count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.raw)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, want a *ParseError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if tt.raw != "" && strings.TrimSpace(tt.raw) != "" && !strings.Contains(err.Error(), "| "+strings.SplitN(strings.TrimSpace(tt.raw), "\n", 2)[0]) {
				t.Errorf("error does not show the raw text: %q", err)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, that what it accepts is consistent (entry count
// matches the header, verdict matches the states) and that the result survives JSON.
func FuzzParse(f *testing.F) {
	f.Add(sample(f))
	f.Fuzz(func(t *testing.T, raw string) {
		st, err := Parse(raw)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			if pe.Raw != raw {
				t.Fatal("ParseError does not carry the raw text")
			}
			return
		}
		if st.Raw != raw {
			t.Fatal("Raw differs from the input")
		}
		if m := headerRe.FindStringSubmatch(firstHeader(raw)); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n != len(st.Entries) {
				t.Fatalf("header says %d entries, parsed %d", n, len(st.Entries))
			}
		}
		if got := verdictOf(st.Entries); got != st.Verdict {
			t.Fatalf("verdict %q, recomputed %q", st.Verdict, got)
		}
		for _, e := range st.Entries {
			if e.UID == "" && e.RequestID == "" && !strings.Contains(raw, "uid:") {
				t.Fatalf("entry without uid accepted: %+v", e)
			}
			if len(e.LastResponse) > 0 && !json.Valid(e.LastResponse) {
				t.Fatalf("lastResponse is not JSON: %q", e.LastResponse)
			}
		}
		if utf8.ValidString(raw) {
			if _, err := json.Marshal(st); err != nil {
				t.Fatalf("status does not marshal: %v", err)
			}
		}
	})
}

func firstHeader(raw string) string {
	for _, l := range strings.Split(strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\r", "\n"), "\n") {
		if l = strings.TrimSpace(l); headerRe.MatchString(l) {
			return l
		}
	}
	return ""
}

// TestParseGarbage: output that is not the pum format at all (a stack trace, a shell error) is an
// error, never "0 requests, done" (found by the fault tests of issue 8).
func TestParseGarbage(t *testing.T) {
	for _, raw := range []string{
		"Exception in thread \"main\" java.lang.IllegalStateException: mongo not ready\n\tat com.actility.pum.Status.main(Status.java:42)\n",
		"sh: status: not found\n",
		"OCI runtime exec failed\n",
	} {
		t.Run(strings.Fields(raw)[0], func(t *testing.T) {
			st, err := Parse(raw)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %+v, %v; want a ParseError", raw, st, err)
			}
		})
	}
	if st, err := Parse("0 entrie(s)\n"); err != nil || st.Verdict != Done {
		t.Errorf("an empty list with its header is still done: %+v %v", st, err)
	}
}

// TestParseTrailingPrompt: a dump pasted from a terminal ends with the shell prompt; the prompt
// is ignored with a warning, the entries and the verdict are those of the clean dump.
func TestParseTrailingPrompt(t *testing.T) {
	clean := "1 entrie(s)\n" + entry("1", "PROCESSED")
	for _, tail := range []string{"user@bastion:~$ ", "[root@pum-5d8c /]#\r\n", "\r\nPS C:\\Users\\ops> "} {
		st, err := Parse(strings.ReplaceAll(clean, "\n", "\r\n") + tail)
		if err != nil {
			t.Fatalf("tail %q: %v", tail, err)
		}
		if st.Verdict != Done || len(st.Entries) != 1 || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "after the last entry") {
			t.Errorf("tail %q: verdict %s, %d entries, warnings %q", tail, st.Verdict, len(st.Entries), st.Warnings)
		}
	}
}
