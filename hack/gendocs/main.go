// Command gendocs writes one Markdown page per command of `kubectl tpe` and `helm tpe` into
// docs/commands (make docs), or checks that the pages there are up to date (make verify-docs):
//
//	go run ./hack/gendocs -dir docs/commands [-verify]
//
// Pages are generated from the cobra trees with cobra/doc, in an environment pinned so that they
// do not depend on the machine: HOME is "~" and no HELM_*/KUBECONFIG variable is read.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/helmtpe"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/kubectltpe"
)

func main() {
	dir := flag.String("dir", "docs/commands", "output directory")
	verify := flag.Bool("verify", false, "do not write: fail when the pages in -dir are stale")
	flag.Parse()
	var err error
	if *verify {
		err = Verify(*dir, os.Stdout)
	} else {
		err = Write(*dir, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// pinEnv makes the help text independent of the machine: defaults that derive from HOME, XDG_*
// or HELM_* (helm's cache and config paths, kubectl's cache dir) show as ~/...
func pinEnv() {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "HELM_") || strings.HasPrefix(k, "XDG_") || k == "KUBECONFIG" {
			_ = os.Unsetenv(k)
		}
	}
	_ = os.Setenv("HOME", "~")
}

// Roots builds the two command trees the pages document.
func Roots() []*cobra.Command {
	pinEnv()
	streams := genericiooptions.NewTestIOStreamsDiscard()
	k := kubectltpe.NewCmdRoot(streams)
	kubectltpe.FormatHelp(k)
	return []*cobra.Command{k, helmtpe.NewCmdRoot(streams)}
}

func fileName(cmd *cobra.Command) string {
	return strings.ReplaceAll(cmd.CommandPath(), " ", "_") + ".md"
}

// Generate renders every page into memory: file name → content. README.md indexes them.
func Generate() (map[string][]byte, error) {
	pages := map[string][]byte{}
	var index bytes.Buffer
	index.WriteString("# Command reference\n\nGenerated from the command trees by `make docs` (hack/gendocs); do not edit.\n`make verify-docs` fails when a page is stale.\n")
	for _, root := range Roots() {
		fmt.Fprintf(&index, "\n## %s\n\n", root.CommandPath())
		var err error
		walk(root, func(cmd *cobra.Command) {
			if err != nil || !cmd.IsAvailableCommand() && cmd != root {
				return
			}
			cmd.DisableAutoGenTag = true
			var b bytes.Buffer
			if e := doc.GenMarkdownCustom(cmd, &b, func(s string) string { return s }); e != nil {
				err = fmt.Errorf("%s: %w", cmd.CommandPath(), e)
				return
			}
			pages[fileName(cmd)] = b.Bytes()
			fmt.Fprintf(&index, "- [%s](%s): %s\n", cmd.CommandPath(), fileName(cmd), cmd.Short)
		})
		if err != nil {
			return nil, err
		}
	}
	pages["README.md"] = index.Bytes()
	return pages, nil
}

func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walk(c, fn)
	}
}

// Write replaces the Markdown pages of dir with freshly generated ones.
func Write(dir string, log io.Writer) error {
	pages, err := Generate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, f := range old {
		if _, ok := pages[filepath.Base(f)]; !ok {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, b := range pages {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "wrote %d pages into %s\n", len(pages), dir)
	return nil
}

// Verify compares dir with freshly generated pages and fails naming every stale, missing or
// extra page.
func Verify(dir string, log io.Writer) error {
	problems, err := Stale(dir)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s is stale (run make docs): %s", dir, strings.Join(problems, "; "))
	}
	fmt.Fprintf(log, "%s is up to date\n", dir)
	return nil
}

// Stale lists the pages of dir that differ from the generated ones.
func Stale(dir string) ([]string, error) {
	pages, err := Generate()
	if err != nil {
		return nil, err
	}
	var problems []string
	for name, b := range pages {
		have, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, name+" is missing")
		case err != nil:
			return nil, err
		case !bytes.Equal(have, b):
			problems = append(problems, name+" differs")
		}
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, f := range old {
		if _, ok := pages[filepath.Base(f)]; !ok {
			problems = append(problems, filepath.Base(f)+" documents no command")
		}
	}
	slices.Sort(problems)
	return problems, nil
}
