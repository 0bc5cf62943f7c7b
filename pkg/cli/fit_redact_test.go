package cli_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

// TestFitHidesSecretsBeforeWrapping: a secret (with hyphens, where a narrow column breaks a
// word) and a URL with credentials are hidden before lines and cells are wrapped, not missed
// because a line break cut them.
func TestFitHidesSecretsBeforeWrapping(t *testing.T) {
	const id = "3f2a9c1e-77d4-4b0a-9e52-c1d0a8b6f4e2"
	const url = "https://robot:s3cr3t-passw0rd@charts.example.com/thingpark/enterprise/charts"
	t.Setenv("COLUMNS", "40")
	var b bytes.Buffer
	out := redact.New(id).Writer(&b)
	w, done := cli.Fit(out, cli.FormatTable)
	tb := cli.NewTable(w, "SETTING", "VALUE")
	tb.Row("installation-id", id)
	tb.Row("repository", url)
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "the repository %s serves the charts of installation %s and nothing else at all\n", url, id)
	done()
	got := b.String()
	for _, leak := range []string{"3f2a9c1e", "c1d0a8b6f4e2", "s3cr3t", "passw0rd"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q leaked:\n%s", leak, got)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if len([]rune(l)) > 40 && !strings.Contains(l, "://") { // a URL in text is shown whole
			t.Errorf("line over 40 columns: %q", l)
		}
	}
}
