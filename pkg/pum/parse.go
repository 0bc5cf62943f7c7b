// Package pum reads the TPE post-upgrade manager (PUM): it runs `status` and `restart` in
// deploy/pum through the exec subresource, parses the status dump shown in the TPE upgrade
// procedure into typed entries with a verdict, and prints the logs of Job pum-process.
package pum

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// Entry is one post-upgrade request.
type Entry struct {
	UID               string `json:"uid"`
	CreationTimestamp string `json:"creationTimestamp,omitempty"`
	Scope             string `json:"scope,omitempty"`
	ServiceID         string `json:"serviceID,omitempty"`
	RequestID         string `json:"requestID"`
	RequestPath       string `json:"requestPath,omitempty"`
	RequestBody       string `json:"requestBody,omitempty"`
	// State is the raw state; "" when the tool printed no state line (reported as unknown).
	State          string `json:"state"`
	StateTimestamp string `json:"stateTimestamp,omitempty"`
	// LastResponse is the last HTTP response as JSON (a JSON string when it was not JSON).
	LastResponse     json.RawMessage `json:"lastResponse,omitempty"`
	ErrorCounter     int             `json:"errorCounter"`
	IterationCounter int             `json:"iterationCounter"`
	// Extra keeps fields this parser does not know, verbatim.
	Extra map[string]string `json:"extra,omitempty"`
}

// The states of a post-upgrade request (the TPE upgrade procedure).
const (
	StateInit               = "INIT"
	StateInProgress         = "IN_PROGRESS"
	StatePartiallyProcessed = "PARTIALLY_PROCESSED"
	StateTransientError     = "TRANSIENT_ERROR"
	StateAborted            = "ABORTED"
	StateProcessed          = "PROCESSED"
	StateSkipped            = "SKIPPED"
)

var knownStates = map[string]bool{
	StateInit: true, StateInProgress: true, StatePartiallyProcessed: true, StateTransientError: true,
	StateAborted: true, StateProcessed: true, StateSkipped: true,
}

// Finished reports whether the entry needs no more work (PROCESSED or SKIPPED).
func (e Entry) Finished() bool { return e.State == StateProcessed || e.State == StateSkipped }

// DisplayState is the state for humans: "unknown" when missing, the raw value otherwise.
func (e Entry) DisplayState() string {
	if e.State == "" {
		return "unknown"
	}
	return e.State
}

// Verdict sums up the entries.
type Verdict string

const (
	// Done means every entry is PROCESSED or SKIPPED.
	Done Verdict = "done"
	// InProgress means some entry is still to be processed (or its state is unknown).
	InProgress Verdict = "in progress"
	// Failed means some entry is ABORTED.
	Failed Verdict = "failed"
)

// Status is a parsed `status` dump.
type Status struct {
	Entries  []Entry  `json:"entries"`
	Verdict  Verdict  `json:"verdict"`
	Warnings []string `json:"warnings,omitempty"`
	// Pod is the pod the status was read from (empty for Parse).
	Pod string `json:"pod,omitempty"`
	// Raw is the text as printed by the tool.
	Raw string `json:"-"`
}

// Aborted returns the ABORTED entries.
func (s *Status) Aborted() []Entry {
	var out []Entry
	for _, e := range s.Entries {
		if e.State == StateAborted {
			out = append(out, e)
		}
	}
	return out
}

// ParseError is a dump the parser cannot trust (truncated, count mismatch, garbled line). Its
// message shows the raw text so that the operator sees what the tool printed.
type ParseError struct {
	Line int // 1-based; 0 when the error is about the whole text
	Msg  string
	Raw  string
}

// Error implements error.
func (e *ParseError) Error() string {
	where := ""
	if e.Line > 0 {
		where = fmt.Sprintf(" at line %d", e.Line)
	}
	raw := e.Raw
	const maxLen = 4000
	if len(raw) > maxLen {
		raw = raw[:maxLen] + "\n[... " + strconv.Itoa(len(e.Raw)-maxLen) + " more bytes]"
	}
	return fmt.Sprintf("cannot parse the pum status output%s: %s; the raw output was:\n%s", where, e.Msg, indent(raw))
}

func indent(s string) string {
	if s == "" {
		return "  (empty)"
	}
	return "  | " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  | ")
}

var headerRe = regexp.MustCompile(`(?i)^(\d+)\s+entr(?:y|ies|ie\(s\)|y\(ies\))\s*$`)
var keyRe = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.-]*)\s*:(?:\s(.*)|)$`)

// requiredKeys must be present in every entry: a dump cut in the middle of an entry lacks the
// counters that close it. state is deliberately not required (the second entry of the sample in
// the TPE upgrade procedure has none).
var requiredKeys = []string{"uid", "requestID", "errorCounter", "iterationCounter"}

// Parse parses the output of `status`. It accepts extra, reordered and unknown-valued fields,
// zero entries, CRLF line ends and a missing final newline, and rejects truncated entries and an
// entry count that does not match the header.
func Parse(raw string) (*Status, error) {
	st := &Status{Raw: raw, Entries: []Entry{}}
	// A terminal's `kubectl exec -it` may colour the output: the escape sequences are not part of
	// the states (a coloured ABORTED must not read as an unknown state).
	content := strings.ReplaceAll(text.StripANSI(raw), "\r\n", "\n")
	content = strings.ReplaceAll(content, "\r", "\n")
	lines := strings.Split(content, "\n")
	fail := func(line int, format string, args ...any) (*Status, error) {
		return nil, &ParseError{Line: line, Msg: fmt.Sprintf(format, args...), Raw: raw}
	}
	if strings.TrimSpace(content) == "" {
		return fail(0, "the output is empty")
	}

	count := -1
	var cur map[string]string
	var curOrder []string
	var curLine int
	var blocks []block
	flush := func() {
		if cur != nil {
			blocks = append(blocks, block{fields: cur, order: curOrder, line: curLine})
		}
		cur, curOrder = nil, nil
	}
	for i := 0; i < len(lines); i++ {
		ln := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || line == "---" {
			continue
		}
		if m := headerRe.FindStringSubmatch(line); m != nil {
			if count >= 0 || len(blocks) > 0 || cur != nil {
				return fail(ln, "a second entry-count line %q", line)
			}
			n, err := strconv.Atoi(m[1])
			if err != nil {
				return fail(ln, "bad entry count %q", m[1])
			}
			count = n
			continue
		}
		m := keyRe.FindStringSubmatch(line)
		if m == nil {
			if cur == nil && len(blocks) == 0 {
				st.Warnings = append(st.Warnings, fmt.Sprintf("ignored line %d before the first entry: %q", ln, text.Truncate(line, 120)))
				continue
			}
			// A dump copied from a terminal often ends with the shell prompt. Lines after the
			// last field are ignored when no field follows them; an entry they cut short still
			// fails below (its counters are missing, or the entry count does not match).
			if trailingNoise(lines[i:]) {
				st.Warnings = append(st.Warnings, fmt.Sprintf("ignored line %d after the last entry: %q", ln, text.Truncate(line, 120)))
				break
			}
			return fail(ln, "line %q is not a \"key: value\" field", text.Truncate(line, 120))
		}
		key, val := m[1], strings.TrimSpace(m[2])
		// A quoted value may continue on the next lines; a quote that never closes means the
		// output was cut.
		if q := quoteOf(val); q != 0 && !closed(val, q) {
			j := i + 1
			for ; j < len(lines); j++ {
				val += "\n" + strings.TrimRight(lines[j], " \t")
				if closed(val, q) {
					break
				}
			}
			if j >= len(lines) {
				return fail(ln, "the value of %s has no closing quote (the output looks truncated)", key)
			}
			i = j
		}
		v, err := unquote(val)
		if err != nil {
			return fail(ln, "the value of %s: %v", key, err)
		}
		// A key already seen starts the next entry: this accepts any field order as long as
		// every entry starts with the same field.
		if cur != nil {
			if _, dup := cur[key]; dup {
				flush()
			}
		}
		if cur == nil {
			cur, curLine = map[string]string{}, ln
		}
		cur[key] = v
		curOrder = append(curOrder, key)
	}
	flush()

	if count < 0 && len(blocks) == 0 {
		// Neither the header nor a single field: this is not the pum status format (a stack trace,
		// a shell error). Reading it as "0 requests, done" would end an upgrade too early.
		return fail(0, "the output is not the pum status format (no \"N entrie(s)\" line and no entry)")
	}
	if count < 0 {
		st.Warnings = append(st.Warnings, "the output has no \"N entrie(s)\" line; counting the entries found")
	} else if count != len(blocks) {
		return fail(0, "the output announces %d entrie(s) but holds %d (truncated or garbled output)", count, len(blocks))
	}
	for _, b := range blocks {
		e, warns, err := b.entry()
		if err != nil {
			return fail(b.line, "%v", err)
		}
		st.Entries = append(st.Entries, e)
		st.Warnings = append(st.Warnings, warns...)
	}
	if len(st.Entries) == 0 {
		st.Warnings = append(st.Warnings, "pum lists no post-upgrade request")
	}
	st.Verdict = verdictOf(st.Entries)
	return st, nil
}

type block struct {
	fields map[string]string
	order  []string
	line   int
}

func (b block) entry() (Entry, []string, error) {
	var missing []string
	for _, k := range requiredKeys {
		if _, ok := b.fields[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Entry{}, nil, fmt.Errorf("the entry starting here has no %s (truncated entry)", strings.Join(missing, ", "))
	}
	var warns []string
	e := Entry{}
	for _, k := range b.order {
		v := b.fields[k]
		switch k {
		case "uid":
			e.UID = v
		case "creationTimestamp":
			e.CreationTimestamp = v
		case "scope":
			e.Scope = v
		case "serviceID":
			e.ServiceID = v
		case "requestID":
			e.RequestID = v
		case "requestPath":
			e.RequestPath = v
		case "requestBody":
			e.RequestBody = v
		case "state":
			e.State = v
		case "stateTimestamp":
			e.StateTimestamp = v
		case "lastResponse":
			switch {
			case v == "" || v == "null" || v == "~":
			case json.Valid([]byte(v)):
				e.LastResponse = json.RawMessage(v)
			default:
				js, _ := json.Marshal(v)
				e.LastResponse = js
			}
		case "errorCounter", "iterationCounter":
			n, err := strconv.Atoi(v)
			if err != nil {
				warns = append(warns, fmt.Sprintf("entry %s: %s is not a number: %q", e.UID, k, text.Truncate(v, 120)))
				if e.Extra == nil {
					e.Extra = map[string]string{}
				}
				e.Extra[k] = v
				continue
			}
			if k == "errorCounter" {
				e.ErrorCounter = n
			} else {
				e.IterationCounter = n
			}
		default:
			if e.Extra == nil {
				e.Extra = map[string]string{}
			}
			e.Extra[k] = v
		}
	}
	id := e.RequestID
	if id == "" {
		id = "uid " + e.UID
	}
	switch {
	case e.State == "":
		if _, ok := b.fields["state"]; ok {
			warns = append(warns, fmt.Sprintf("entry %s has an empty state: counted as unknown, not done", id))
		} else {
			warns = append(warns, fmt.Sprintf("entry %s has no state line: counted as unknown, not done", id))
		}
	case !knownStates[e.State]:
		warns = append(warns, fmt.Sprintf("entry %s has the unknown state %q: counted as not done", id, e.State))
	}
	if len(e.Extra) > 0 {
		keys := make([]string, 0, len(e.Extra))
		for k := range e.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		warns = append(warns, fmt.Sprintf("entry %s has unknown field(s) %s (kept under extra)", id, strings.Join(keys, ", ")))
	}
	return e, warns, nil
}

// trailingNoise reports whether lines hold no field and no entry-count line: what follows the
// dump (a shell prompt, a blank line), not a part of it.
func trailingNoise(lines []string) bool {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if headerRe.MatchString(l) || keyRe.MatchString(l) {
			return false
		}
	}
	return true
}

func verdictOf(es []Entry) Verdict {
	done := true
	for _, e := range es {
		if e.State == StateAborted {
			return Failed
		}
		if !e.Finished() {
			done = false
		}
	}
	if done {
		return Done
	}
	return InProgress
}

func quoteOf(v string) byte {
	if len(v) > 0 && (v[0] == '\'' || v[0] == '"') {
		return v[0]
	}
	return 0
}

// closed reports whether a value that starts with quote q ends with its closing quote. In
// single-quoted (YAML) values a quote is escaped by doubling it; in double-quoted ones by a
// backslash.
func closed(v string, q byte) bool {
	if len(v) < 2 || v[len(v)-1] != q {
		return false
	}
	body := v[1 : len(v)-1]
	if q == '\'' {
		// The body must not hold a lone quote: pairs only.
		n := 0
		for i := len(body) - 1; i >= 0 && body[i] == '\''; i-- {
			n++
		}
		return n%2 == 0
	}
	n := 0
	for i := len(body) - 1; i >= 0 && body[i] == '\\'; i-- {
		n++
	}
	return n%2 == 0
}

func unquote(v string) (string, error) {
	switch quoteOf(v) {
	case '\'':
		body := v[1 : len(v)-1]
		if strings.Contains(strings.ReplaceAll(body, "''", ""), "'") {
			return "", fmt.Errorf("stray quote in %q", text.Truncate(v, 120))
		}
		return strings.ReplaceAll(body, "''", "'"), nil
	case '"':
		s, err := strconv.Unquote(strings.ReplaceAll(v, "\n", `\n`))
		if err != nil {
			return "", fmt.Errorf("bad double-quoted string %q", text.Truncate(v, 120))
		}
		return s, nil
	}
	return v, nil
}
