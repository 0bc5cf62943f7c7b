package kubectltpe

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// writePUMTable prints one row per entry, then the verdict and the last response of aborted
// entries. The time column is how long each entry has been in its state (IN STATE) at now; a zero
// now (a saved dump, taken at an unknown time) shows the state's timestamp instead (STATE SINCE).
func writePUMTable(w io.Writer, st *pum.Status, now time.Time) error {
	if len(st.Entries) > 0 {
		timeCol := "IN STATE"
		if now.IsZero() {
			timeCol = "STATE SINCE"
		}
		t := cli.NewTable(w, "UID", "REQUEST", "SCOPE", "STATE", timeCol, "ERRORS", "ITERATIONS")
		for _, e := range st.Entries {
			t.Row(e.UID, e.RequestID, e.Scope, e.DisplayState(), stateTime(e.StateTimestamp, now), fmt.Sprint(e.ErrorCounter), fmt.Sprint(e.IterationCounter))
		}
		if err := t.Render(); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(w, "No post-upgrade request.")
	}
	finished := 0
	for _, e := range st.Entries {
		if e.Finished() {
			finished++
		}
	}
	fmt.Fprintf(w, "\nVerdict: %s (%d of %d request(s) processed or skipped)\n", st.Verdict, finished, len(st.Entries))
	for _, e := range st.Aborted() {
		fmt.Fprintf(w, "  ABORTED %s: last response %s\n", text.Safe(e.RequestID), text.Safe(string(e.LastResponse)))
	}
	if st.Verdict == pum.Failed {
		fmt.Fprintf(w, "To fix: read the logs (%s pum logs), fix the cause, then run %s pum restart.\n", DisplayName, DisplayName)
	}
	return nil
}

// stateTime is the time column of a row: the duration from ts to now, or, for a zero now, ts in
// UTC to the second; "-" when ts is missing or not a time.
func stateTime(ts string, now time.Time) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return "-"
	}
	if now.IsZero() {
		return t.UTC().Format(time.RFC3339)
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	return duration.ShortHumanDuration(d)
}

func progressLine(s *pum.Status) string {
	counts := map[string]int{}
	for _, e := range s.Entries {
		counts[e.DisplayState()]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	return fmt.Sprintf("post-upgrade procedure %s: %d request(s) (%s)", s.Verdict, len(s.Entries), strings.Join(parts, ", "))
}
