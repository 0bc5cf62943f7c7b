package kubectltpe

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func walkTree(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walkTree(c, fn)
	}
}

// TestEveryCommandHasLongAndExamples: every command a user can see has a Long description and
// kubectl-style Examples ("# comment" lines followed by a `kubectl tpe ...` command).
func TestEveryCommandHasLongAndExamples(t *testing.T) {
	t.Parallel()
	root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
	walkTree(root, func(cmd *cobra.Command) {
		if !cmd.IsAvailableCommand() || cmd == root {
			return
		}
		t.Run(cmd.CommandPath(), func(t *testing.T) {
			if strings.TrimSpace(cmd.Long) == "" {
				t.Error("no Long description")
			}
			if strings.TrimSpace(cmd.Example) == "" {
				t.Fatal("no Examples")
			}
			var comments, commands int
			for _, line := range strings.Split(cmd.Example, "\n") {
				line = strings.TrimSpace(line)
				switch {
				case strings.HasPrefix(line, "#"):
					comments++
				case strings.HasPrefix(line, DisplayName+" "), strings.HasPrefix(line, "kubectl-tpe "):
					commands++
				}
			}
			if comments == 0 || commands == 0 {
				t.Errorf("Examples need a # comment and a %q command line, got:\n%s", DisplayName, cmd.Example)
			}
			if !strings.HasPrefix(cmd.Example, "  ") {
				t.Errorf("Examples are not indented as templates.Examples does:\n%s", cmd.Example)
			}
		})
	})
	if strings.TrimSpace(root.Long) == "" {
		t.Error("root has no Long description")
	}
}

func TestCompletionCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shell, want string
	}{
		{"bash", "__start_kubectl-tpe"},
		{"zsh", "#compdef kubectl-tpe"},
		{"fish", "complete -c kubectl-tpe"},
		{"powershell", "Register-ArgumentCompleter"},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			root := NewCmdRoot(streams)
			root.SetArgs([]string{"completion", tt.shell})
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("completion %s does not contain %q", tt.shell, tt.want)
			}
		})
	}
	for _, args := range [][]string{{"completion", "tcsh"}, {"completion"}, {"completion", "bash", "zsh"}} {
		root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
		root.SetArgs(args)
		if err := root.Execute(); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}

func TestIsCompletionHelper(t *testing.T) {
	t.Parallel()
	for arg0, want := range map[string]bool{
		"/usr/local/bin/kubectl_complete-tpe": true,
		`C:\bin\kubectl_complete-tpe.exe`:     true,
		"kubectl_complete-tpe":                true,
		"/usr/local/bin/kubectl-tpe":          false,
		"kubectl_complete-tree":               false,
	} {
		if got := isCompletionHelper(strings.ReplaceAll(arg0, `\`, "/")); got != want {
			t.Errorf("isCompletionHelper(%q) = %v", arg0, got)
		}
	}
}

// TestArgs: run as kubectl_complete-tpe, the binary answers kubectl's completion request.
func TestArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/local/bin/kubectl-tpe", "status", "-n", "tpe"}, "status -n tpe"},
		{[]string{"/usr/local/bin/kubectl_complete-tpe", "status", "-n", ""}, cobra.ShellCompRequestCmd + " status -n "},
		{[]string{"kubectl-tpe"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(Args(tt.argv), " "); got != tt.want {
			t.Errorf("Args(%q) = %q, want %q", tt.argv, got, tt.want)
		}
	}
}

// TestFlagCompletionsAreWired: the completion of every flag named below is registered once the
// whole tree is built (NewCmdRoot wires the completions after adding every command).
func TestFlagCompletionsAreWired(t *testing.T) {
	t.Parallel()
	root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
	for _, name := range []string{"namespace", "context"} {
		if _, ok := root.GetFlagCompletionFunc(name); !ok {
			t.Errorf("--%s has no completion", name)
		}
	}
	walkTree(root, func(cmd *cobra.Command) {
		for _, name := range []string{"hosting", "to", "tpe-version", "profile", "output", "color", "fail-on", "segment", "priority-class-names"} {
			f := cmd.Flags().Lookup(name)
			if f == nil || (name == "output" && !strings.Contains(f.Usage, "json")) {
				continue
			}
			if _, ok := cmd.GetFlagCompletionFunc(name); !ok {
				t.Errorf("%s --%s has no completion", cmd.CommandPath(), name)
			}
		}
	})
	// The completion request that kubectl sends to kubectl_complete-tpe.
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"__complete", "completion", ""})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, shell := range completionShells {
		if !strings.Contains(out.String(), shell+"\n") {
			t.Errorf("__complete completion does not offer %s:\n%s", shell, out.String())
		}
	}
}

// TestKubectlConventions: kubectl tpe takes kubectl's connection flags (--request-timeout among
// them) and klog's -v, and hides klog's other flags, as kubectl plugins do.
func TestKubectlConventions(t *testing.T) {
	t.Parallel()
	root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
	for _, name := range []string{"kubeconfig", "context", "namespace", "request-timeout", "as", "v"} {
		if root.PersistentFlags().Lookup(name) == nil {
			t.Errorf("kubectl tpe has no --%s", name)
		}
	}
	for _, name := range []string{"logtostderr", "alsologtostderr", "vmodule", "log_dir"} {
		if f := root.PersistentFlags().Lookup(name); f != nil && !f.Hidden {
			t.Errorf("klog's --%s is visible", name)
		}
	}
	if !root.SilenceUsage || !root.SilenceErrors {
		t.Error("the root must silence usage and errors: main prints the error once")
	}
}

// TestFlagPlaceholders: pflag takes a back-quoted word of a flag's usage as the placeholder of its
// value (`--bundle FILE`), so a back-quoted phrase there would read as one.
func TestFlagPlaceholders(t *testing.T) {
	root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
	walkTree(root, func(cmd *cobra.Command) {
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if name, _ := pflag.UnquoteUsage(f); strings.ContainsAny(name, " -") {
				t.Errorf("%s --%s: placeholder %q (a back-quoted phrase in the usage)", cmd.CommandPath(), f.Name, name)
			}
		})
	})
}
