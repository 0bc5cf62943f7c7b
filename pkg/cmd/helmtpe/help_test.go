package helmtpe

import (
	"encoding/json"
	"os"
	"path/filepath"
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
// kubectl-style Examples ("# comment" lines followed by a `helm tpe ...` command).
func TestEveryCommandHasLongAndExamples(t *testing.T) {
	root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
	walkTree(root, func(cmd *cobra.Command) {
		if !cmd.IsAvailableCommand() || cmd == root {
			return
		}
		t.Run(cmd.CommandPath(), func(t *testing.T) {
			if strings.TrimSpace(cmd.Long) == "" {
				t.Error("no Long description")
			}
			if strings.Contains(cmd.Long, "\n        ") {
				t.Errorf("Long has a line indented as a code block (a back-quoted span in templates.LongDesc breaks the sentence):\n%s", cmd.Long)
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
				case strings.HasPrefix(line, "helm "):
					commands++
				}
			}
			if comments == 0 || commands == 0 {
				t.Errorf("Examples need a # comment and a helm tpe command line, got:\n%s", cmd.Example)
			}
		})
	})
	if strings.TrimSpace(root.Long) == "" {
		t.Error("root has no Long description")
	}
}

// TestFlagCompletionsAreWired: the completion of every flag named below is registered once the
// whole tree is built (zz_completion_flags.go runs last).
func TestFlagCompletionsAreWired(t *testing.T) {
	root := NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard())
	for _, name := range []string{"namespace", "kube-context"} {
		if _, ok := root.GetFlagCompletionFunc(name); !ok {
			t.Errorf("--%s has no completion", name)
		}
	}
	n := 0
	walkTree(root, func(cmd *cobra.Command) {
		for _, name := range []string{"hosting", "to", "tpe-version", "output"} {
			f := cmd.Flags().Lookup(name)
			if f == nil || (name == "output" && !strings.Contains(f.Usage, "json")) {
				continue
			}
			n++
			if _, ok := cmd.GetFlagCompletionFunc(name); !ok {
				t.Errorf("%s --%s has no completion", cmd.CommandPath(), name)
			}
		}
	})
	if n == 0 {
		t.Error("no command of helm tpe has a completable flag: the walk is broken")
	}
}

func TestEnvReportsHelmSettings(t *testing.T) {
	// A kubeconfig whose context names no namespace, as Helm sees it before exporting
	// HELM_NAMESPACE=default.
	kc := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster: {server: 'https://127.0.0.1:1'}\n"+
		"contexts:\n- name: c\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user: {token: t}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plugin := map[string]string{"HELM_NAMESPACE": "default", "HELM_KUBECONTEXT": "", "KUBECONFIG": kc,
		"HELM_PLUGIN_NAME": "tpe", "HELM_PLUGIN_DIR": "/p/tpe", "HELM_BIN": "/usr/bin/helm", "HELM_DRIVER": "secret"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want EnvInfo
	}{
		{
			name: "as a plugin: helm exports its global flags",
			env: map[string]string{"HELM_NAMESPACE": "tpe-ns", "HELM_KUBECONTEXT": "prod", "KUBECONFIG": "/k/config",
				"HELM_PLUGIN_NAME": "tpe", "HELM_PLUGIN_DIR": "/p/tpe", "HELM_BIN": "/usr/bin/helm", "HELM_DRIVER": "secret"},
			want: EnvInfo{Namespace: "tpe-ns", KubeContext: "prod", KubeConfig: "/k/config", HelmDriver: "secret",
				Plugin: true, PluginDir: "/p/tpe", HelmBin: "/usr/bin/helm"},
		},
		{
			name: "standalone: the same flags",
			env:  map[string]string{"HELM_NAMESPACE": "", "HELM_KUBECONTEXT": "", "KUBECONFIG": "", "HELM_PLUGIN_NAME": "", "HELM_PLUGIN_DIR": "", "HELM_BIN": "", "HELM_DRIVER": ""},
			args: []string{"-n", "other", "--kube-context", "dev", "--kubeconfig", "/tmp/kc"},
			want: EnvInfo{Namespace: "other", KubeContext: "dev", KubeConfig: "/tmp/kc", HelmDriver: "secret"},
		},
	}
	tests = append(tests,
		// Helm exports HELM_NAMESPACE=default when nothing names a namespace: it was taken as a choice.
		struct {
			name string
			env  map[string]string
			args []string
			want EnvInfo
		}{name: "as a plugin: HELM_NAMESPACE=default is not a choice", env: plugin,
			want: EnvInfo{Namespace: "thingpark-enterprise", KubeConfig: kc, HelmDriver: "secret", Plugin: true, PluginDir: "/p/tpe", HelmBin: "/usr/bin/helm"}},
		struct {
			name string
			env  map[string]string
			args []string
			want EnvInfo
		}{name: "standalone: -n default is", env: map[string]string{"HELM_NAMESPACE": "", "KUBECONFIG": kc, "HELM_PLUGIN_NAME": "", "HELM_PLUGIN_DIR": "", "HELM_BIN": "", "HELM_DRIVER": ""},
			args: []string{"-n", "default"}, want: EnvInfo{Namespace: "default", KubeConfig: kc, HelmDriver: "secret"}},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			root := NewCmdRoot(streams)
			root.SetArgs(append(tt.args, "env", "-o", "json"))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			var got EnvInfo
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestFlagPlaceholders: pflag takes a back-quoted word of a flag's usage as the placeholder of its
// value (`--bundle FILE`); a back-quoted command there printed "--to helm tpe releases".
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
