package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const module = "github.com/thingpark-tools/kubectl-tpe/"

type rule struct {
	helm    bool
	allowed map[string]bool
}

func readRules(t *testing.T, root string) map[string]rule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```deps\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("docs/architecture.md has no ```deps block")
	}
	rules := map[string]rule{}
	for _, l := range strings.Split(string(m[1]), "\n") {
		head, rest, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		r := rule{allowed: map[string]bool{}}
		name := strings.TrimSpace(head)
		if strings.HasSuffix(name, "[helm]") {
			r.helm, name = true, strings.TrimSpace(strings.TrimSuffix(name, "[helm]"))
		}
		for _, p := range strings.Fields(rest) {
			r.allowed[p] = true
		}
		rules[name] = r
	}
	return rules
}

// imports returns the imports of the non-test Go files of dir (nil when it holds none).
func imports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	out := map[string]bool{}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, im := range af.Imports {
			out[strings.Trim(im.Path.Value, `"`)] = true
		}
	}
	if n == 0 {
		return nil
	}
	return out
}

func TestArchitectureDocMatchesImports(t *testing.T) {
	root := filepath.Join("..", "..")
	rules := readRules(t, root)
	var dirs []string
	_ = filepath.WalkDir(filepath.Join(root, "pkg"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() != "testdata" {
			dirs = append(dirs, p)
		}
		return nil
	})
	sort.Strings(dirs)
	seen := map[string]bool{}
	for _, dir := range dirs {
		ims := imports(t, dir)
		if ims == nil {
			continue
		}
		rel, _ := filepath.Rel(root, dir)
		pkg := filepath.ToSlash(rel)
		seen[pkg] = true
		r, ok := rules[pkg]
		if !ok {
			t.Errorf("%s is not listed in docs/architecture.md: add it (what it owns, what it may import)", pkg)
			continue
		}
		for im := range ims {
			switch {
			case strings.HasPrefix(im, module):
				if p := strings.TrimPrefix(im, module); !r.allowed[p] {
					t.Errorf("%s imports %s, which docs/architecture.md does not allow", pkg, p)
				}
			case strings.HasPrefix(im, "helm.sh/") && !r.helm:
				t.Errorf("%s imports %s but is not marked [helm] in docs/architecture.md", pkg, im)
			case (strings.HasPrefix(im, "github.com/spf13/cobra") || strings.HasPrefix(im, "github.com/spf13/pflag")) &&
				!strings.HasPrefix(pkg, "pkg/cmd/") && pkg != "pkg/cli":
				t.Errorf("%s imports %s: only the command trees may", pkg, im)
			}
		}
	}
	for name := range rules {
		if !seen[name] {
			t.Errorf("docs/architecture.md lists %s, which does not exist (or has no Go file)", name)
		}
	}
}

// The packages that may import Helm are listed twice: [helm] in docs/architecture.md (checked
// against the imports above) and the exemptions of golangci-lint's depguard rule. They must agree,
// or the linter lets through what the document forbids (or the reverse).
func TestGolangciHelmRuleMatchesArchitectureDoc(t *testing.T) {
	root := filepath.Join("..", "..")
	data, err := os.ReadFile(filepath.Join(root, ".golangci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Linters struct {
			Settings struct {
				Depguard struct {
					Rules map[string]struct {
						Files []string `json:"files"`
					} `json:"rules"`
				} `json:"depguard"`
			} `json:"settings"`
		} `json:"linters"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	r, ok := cfg.Linters.Settings.Depguard.Rules["helm-only-in-helm-tpe"]
	if !ok {
		t.Fatal(".golangci.yml has no depguard rule helm-only-in-helm-tpe")
	}
	var lint []string
	for _, f := range r.Files {
		// "!**/pkg/plan/**" exempts pkg/plan; the exemptions outside pkg/ (cmd/helm-tpe, test
		// and dev code) are not packages of the document.
		if p, ok := strings.CutPrefix(f, "!**/"); ok && strings.HasPrefix(p, "pkg/") {
			lint = append(lint, strings.TrimSuffix(p, "/**"))
		}
	}
	var doc []string
	for name, r := range readRules(t, root) {
		if r.helm {
			doc = append(doc, name)
		}
	}
	sort.Strings(lint)
	sort.Strings(doc)
	if strings.Join(lint, " ") != strings.Join(doc, " ") {
		t.Errorf("the packages that may import Helm differ:\n  .golangci.yml (depguard helm-only-in-helm-tpe): %v\n  docs/architecture.md ([helm]):                  %v", lint, doc)
	}
}
