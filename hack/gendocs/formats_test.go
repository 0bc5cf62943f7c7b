package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// withoutFullOutput lists the runnable commands of both trees whose -o does not offer table, json
// and yaml: "kubectl tpe completion (no -o)".
func withoutFullOutput() []string {
	var out []string
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.IsAvailableCommand() && c.Runnable() && !c.HasAvailableSubCommands() && c.Name() != "help" {
			f := c.Flags().Lookup("output")
			switch {
			case f == nil:
				out = append(out, c.CommandPath()+" (no -o)")
			case !strings.Contains(f.Usage, "table") || !strings.Contains(f.Usage, "json") || !strings.Contains(f.Usage, "yaml"):
				out = append(out, c.CommandPath()+" (-o "+strings.TrimSpace(f.Usage)+")")
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	for _, r := range Roots() {
		walk(r)
	}
	sort.Strings(out)
	return out
}

// TestReadmeNamesTheCommandsWithoutFullOutput: the README's sentence on -o names exactly the
// commands that print but have no -o table|json|yaml (it said "every command" when some had not).
func TestReadmeNamesTheCommandsWithoutFullOutput(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)`-o table\\|json\\|yaml` except (.*?):").FindSubmatch(b)
	if m == nil {
		t.Fatalf("the README does not say which commands lack -o table|json|yaml; they are:\n%s", strings.Join(withoutFullOutput(), "\n"))
	}
	named := map[string]bool{}
	for _, c := range regexp.MustCompile("`((?:kubectl|helm) tpe [a-z -]+?)`").FindAllSubmatch(m[1], -1) {
		named[string(c[1])] = true
	}
	for _, c := range withoutFullOutput() {
		path, _, _ := strings.Cut(c, " (")
		if !named[path] {
			t.Errorf("README: %s lacks -o table|json|yaml but is not named", c)
		}
		delete(named, path)
	}
	for c := range named {
		t.Errorf("README names %s as lacking -o table|json|yaml, but it has it", c)
	}
}
