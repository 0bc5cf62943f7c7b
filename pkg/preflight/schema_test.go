package preflight

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

// schemaFromDocs compiles the ```json block of docs/output-schema.md.
func schemaFromDocs(t *testing.T) *jsonschema.Schema {
	t.Helper()
	md, err := os.ReadFile(filepath.Join("..", "..", "docs", "output-schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(md), "```json\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/output-schema.md has no ```json block")
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(block))
	if err != nil {
		t.Fatalf("the schema in docs/output-schema.md is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("output-schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("output-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJSONMatchesDocumentedSchema: a full preflight report (every check that runs without a
// network) validates against the documented schema.
func TestJSONMatchesDocumentedSchema(t *testing.T) {
	s := schemaFromDocs(t)
	rep := run(t, cluster(t, "37", nil, threeNodes()...), baseConfig(t, "v7.3.1"))
	var buf bytes.Buffer
	if err := check.Write(&buf, cli.FormatJSON, rep, false); err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("preflight -o json does not match docs/output-schema.md: %v\n%s", err, buf.String())
	}
	// And the schema is not vacuous: a wrong status is refused.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"kind":"Preflight","checks":[{"id":"x","category":"C","status":"ok","message":"m"}],"summary":{"total":1,"pass":0,"warn":0,"fail":0,"skip":0,"manual":0}}`))
	if s.Validate(bad) == nil {
		t.Error("the schema accepts status \"ok\"")
	}
	if rep.Summary.Total != len(rep.Checks) {
		t.Errorf("summary total %d for %d checks", rep.Summary.Total, len(rep.Checks))
	}
}
