package helmtpe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

// planSchema compiles the two ```json blocks of docs/output-schema.md: the check report and the
// plan, which refers to it.
func planSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	md, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "output-schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	rest := string(md)
	var ids []string
	for {
		var block string
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```json\n"); !ok {
			break
		}
		if block, rest, ok = strings.Cut(rest, "```"); !ok {
			t.Fatal("an unterminated ```json block in docs/output-schema.md")
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(block))
		if err != nil {
			t.Fatalf("a schema of docs/output-schema.md is not JSON: %v", err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) != 2 || !strings.HasSuffix(ids[1], "/plan-schema.json") {
		t.Fatalf("docs/output-schema.md: want the check report's and the plan's schemas, got %v", ids)
	}
	s, err := c.Compile(ids[1])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPlanJSONMatchesDocumentedSchema: `helm tpe plan -o json` has the check report's top-level
// shape (kind, checks, summary) and only the fields docs/output-schema.md documents.
func TestPlanJSONMatchesDocumentedSchema(t *testing.T) {
	s := planSchema(t)
	tests := []struct {
		name       string
		tag        string // installed in a fake cluster; "" with --from: none
		args       []string
		wantAction string
	}{
		{"offline upgrade in three hops", "", []string{"--from", "v7.1.2", "--to", "v7.3.1", "--kube-version", "v1.27.3"}, "upgrade"},
		{"offline downgrade", "", []string{"--from", "v7.3.1", "--to", "v7.2.2c"}, "downgrade"},
		{"upgrade on a cluster", "v7.2.2c", []string{"--to", "v7.3.1"}, "upgrade"},
		{"fresh namespace", "-", []string{"--to", "v7.3.1"}, "install"},
		{"nothing to do", "v7.3.1", []string{"--to", "v7.3.1"}, "none"},
		{"downgrade on a cluster", "v7.3.1", []string{"--to", "v7.2.2c"}, "downgrade"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cl *Cluster
			switch tt.tag {
			case "":
				noKubeconfig(t)
			case "-":
				cl = newCluster(t, "")
			default:
				cl = newCluster(t, tt.tag)
			}
			out, _, err := run(t, cl, append([]string{"plan", "-o", "json"}, tt.args...)...)
			if code := cli.ExitCode(err); code == cli.ExitErr {
				t.Fatalf("plan: %v", err)
			}
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if err := s.Validate(doc); err != nil {
				t.Fatalf("plan -o json does not match docs/output-schema.md: %v\n%s", err, out)
			}
			var p struct {
				Kind, Action string
				Reachable    bool
			}
			_ = json.Unmarshal([]byte(out), &p)
			if p.Kind != "Plan" || p.Action != tt.wantAction {
				t.Errorf("kind %q action %q, want Plan %q", p.Kind, p.Action, tt.wantAction)
			}
			if p.Action == "downgrade" && p.Reachable {
				t.Error("a downgrade is reachable")
			}
		})
	}
	// The schema is not vacuous: the old nesting under "report" is refused.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"namespace":"n","target":"v7.3.1","action":"upgrade","reachable":true,"hops":[],"report":{"kind":"Plan","checks":[],"summary":{"total":0,"pass":0,"warn":0,"fail":0,"skip":0,"manual":0}}}`))
	if s.Validate(bad) == nil {
		t.Error("the plan schema accepts checks nested under report")
	}
}

// TestPlanNamesDowngrades: a target older than the installed release is a downgrade, with the
// vendor's answer (rollback, or restore from backup), not an unreachable upgrade.
func TestPlanNamesDowngrades(t *testing.T) {
	noKubeconfig(t)
	out, _, err := run(t, nil, "plan", "--from", "v7.3.1", "--to", "v7.2.2c")
	if code := cli.ExitCode(err); code != cli.ExitFailed {
		t.Fatalf("exit %d (%v), want %d", code, err, cli.ExitFailed)
	}
	for _, w := range []string{"Action:     downgrade", "roll back", "restore", "this is a downgrade"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}
