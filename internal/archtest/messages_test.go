package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/helmtpe"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/kubectltpe"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/vocab"
)

// messageAllowList holds the string literals of library packages that may name one of our flags
// or commands, each with why. Keep it small: a library message names neither; the command words
// it with its flag names (docs/architecture.md, "Who words a message").
var messageAllowList = map[string]string{
	"-s": "iperf3's own server flag, an argument of the network probe pod's command",
	// pkg/cli is the flag plumbing both trees share: it defines --color and -o itself.
	"invalid value %q for --color: %w": "pkg/cli defines the --color flag of both trees and parses its value",
	"warning: -o %s: -o is an output format; name the file with --output-file (taken as the file this time)\n": "pkg/cli defines -o and --output-file for both trees",
	"interrupted; marked failed by helm tpe --resume":                                                          "the description of a Helm release revision, which `helm history` shows (no command of ours prints it to spell a key): it names the tool that changed the revision",
}

// ourCommands matches a command of either plugin named in a string.
var ourCommands = regexp.MustCompile(`\b(helm tpe|kubectl tpe)\b`)

// flagNames returns the long and short flags of every command of both plugins.
func flagNames(t *testing.T) (long, short map[string]bool) {
	t.Helper()
	long, short = map[string]bool{}, map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) {
			long[f.Name] = true
			if f.Shorthand != "" {
				short[f.Shorthand] = true
			}
		}
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	streams := genericiooptions.NewTestIOStreamsDiscard()
	walk(helmtpe.NewCmdRoot(streams))
	walk(kubectltpe.NewCmdRoot(streams))
	return long, short
}

// upstreamCommand matches a command line of kubectl or helm themselves (not of our plugins), up
// to the end of its clause: their flags are the vendor's procedure, not ours.
var upstreamCommand = regexp.MustCompile("\\b(kubectl|helm) [a-z][^;,`]*")

// namesOurs says which of our flags or commands s names ("" when none).
func namesOurs(s string, long, short map[string]bool) string {
	if m := ourCommands.FindString(s); m != "" {
		return m
	}
	s = upstreamCommand.ReplaceAllString(s, "")
	for _, m := range regexp.MustCompile(`(?:^|[\s("'\x60\[,=])--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(s, -1) {
		if long[m[1]] {
			return "--" + m[1]
		}
	}
	for _, m := range regexp.MustCompile(`(?:^|[\s("'\x60\[,])-([a-zA-Z])(?:$|[\s)"'\x60\],=])`).FindAllStringSubmatch(s, -1) {
		if short[m[1]] {
			return "-" + m[1]
		}
	}
	return ""
}

// TestLibraryMessagesNameNoFlagsOrCommands fails when a string literal of a non-test Go file of a
// library package (pkg/ outside pkg/cmd) names a flag or a command of our plugins: the library
// returns typed errors or fields, and the command words the message with its flag names.
func TestLibraryMessagesNameNoFlagsOrCommands(t *testing.T) {
	long, short := flagNames(t)
	root := filepath.Join("..", "..", "pkg")
	var bad, unknown []string
	used := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == filepath.Join(root, "cmd") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, k := range vocab.Keys(s) {
				for name, w := range map[string]vocab.Words{"kubectl tpe": vocab.Kubectl, "helm tpe": vocab.Helm} {
					if _, ok := w[k]; !ok {
						unknown = append(unknown, fmt.Sprintf("%s: key {%s} is not in the vocabulary of %s (pkg/cmd/vocab)", fset.Position(lit.Pos()), k, name))
					}
				}
			}
			what := namesOurs(s, long, short)
			if what == "" {
				return true
			}
			if _, ok := messageAllowList[s]; ok {
				used[s] = true
				return true
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), path)
			rel = filepath.ToSlash(rel)
			bad = append(bad, rel+":"+strconv.Itoa(fset.Position(lit.Pos()).Line)+": names "+what+": "+strconv.Quote(s))
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%d string literals of library packages name our flags or commands; return a typed error or a field and let the command word it (or allow-list it with why):\n%s",
			len(bad), strings.Join(bad, "\n"))
	}
	for s := range messageAllowList {
		if !used[s] {
			t.Errorf("allow-list entry %q matches no string any more: remove it", s)
		}
	}
	for _, u := range unknown {
		t.Error(u)
	}
}

// TestVocabularyNamesOurCommandsAndFlags: every spelling of pkg/cmd/vocab names a command of the
// plugin it starts with, or a flag of either tree, so that a renamed command or flag fails here
// rather than in a user's remediation.
func TestVocabularyNamesOurCommandsAndFlags(t *testing.T) {
	long, short := flagNames(t)
	streams := genericiooptions.NewTestIOStreamsDiscard()
	trees := map[string]*cobra.Command{"helm tpe": helmtpe.NewCmdRoot(streams), "kubectl tpe": kubectltpe.NewCmdRoot(streams)}
	for name, w := range map[string]vocab.Words{"kubectl tpe": vocab.Kubectl, "helm tpe": vocab.Helm} {
		for k, v := range w {
			switch {
			case strings.HasPrefix(k, "cmd:"):
				plugin := ourCommands.FindString(v)
				root := trees[plugin]
				if root == nil || !strings.HasPrefix(v, plugin+" ") {
					t.Errorf("%s: {%s} = %q does not start with a plugin's name", name, k, v)
					continue
				}
				args := strings.Fields(strings.TrimPrefix(v, plugin))
				if c, rest, err := root.Find(args); err != nil || len(rest) > 0 || c == root {
					t.Errorf("%s: {%s} = %q is not a command of %s", name, k, v, plugin)
				}
			case strings.HasPrefix(v, "--") && long[strings.TrimPrefix(v, "--")]:
			case len(v) == 2 && v[0] == '-' && short[v[1:]]:
			default:
				t.Errorf("%s: {%s} = %q is not a flag of either tree", name, k, v)
			}
		}
	}
}
