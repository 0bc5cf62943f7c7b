// Package complete holds the shell-completion functions of both plugins' flags and arguments:
// fixed values (hosting, output formats, profiles), TPE release names from the embedded release
// matrix, and namespaces and contexts read from the cluster and the kubeconfig. Each returns a
// cobra completion function; Flag registers one on a flag when the command has that flag.
package complete

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
)

// Func is a cobra completion function (cobra.CompletionFunc).
type Func = cobra.CompletionFunc

// Timeout bounds the API requests of a completion: a shell must not hang on <TAB>.
const Timeout = 5 * time.Second

// Values completes the given fixed values that start with what was typed, and no file names.
func Values(values ...string) Func {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return filter(values, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// Hosting completes --hosting: aks, eks, gke, other.
func Hosting() Func { return Values(prereq.Hostings...) }

// OutputFormats completes -o/--output with the formats a command accepts.
func OutputFormats(formats ...string) Func { return Values(formats...) }

// Profiles completes --profile of preflight: admin, operator, all.
func Profiles() Func { return Values("admin", "operator", "all") }

// Releases completes --to and --tpe-version with the TPE release names (tags and aliases) of the
// embedded release matrix, in the order of the matrix.
func Releases() Func {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		m, err := manifest.Load()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return filter(m.Names(), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// Namespaces completes -n/--namespace with the namespaces of the cluster that getter points at
// (--kubeconfig, --context of the command line are honoured through getter). Without access it
// completes nothing rather than failing the shell.
func Namespaces(getter genericclioptions.RESTClientGetter) Func {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(contextOf(cmd), Timeout)
		defer cancel()
		c, err := kube.NewClients(ctx, getter)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, err := c.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names := make([]string, 0, len(list.Items))
		for _, ns := range list.Items {
			names = append(names, ns.Name)
		}
		return filter(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// Contexts completes --context/--kube-context with the context names of the kubeconfig.
func Contexts(getter genericclioptions.RESTClientGetter) Func {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		raw, err := getter.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names := make([]string, 0, len(raw.Contexts))
		for name := range raw.Contexts {
			names = append(names, name)
		}
		slices.Sort(names)
		return filter(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// Flag registers fn as the completion of the flag name of cmd (local or persistent) when cmd has
// such a flag and no completion is registered for it yet. It reports whether it registered fn.
func Flag(cmd *cobra.Command, name string, fn Func) bool {
	if cmd.Flags().Lookup(name) == nil && cmd.PersistentFlags().Lookup(name) == nil {
		return false
	}
	if _, ok := cmd.GetFlagCompletionFunc(name); ok {
		return false
	}
	return cmd.RegisterFlagCompletionFunc(name, fn) == nil
}

func filter(values []string, prefix string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if strings.HasPrefix(v, prefix) {
			out = append(out, v)
		}
	}
	return out
}

func contextOf(cmd *cobra.Command) context.Context {
	if cmd != nil && cmd.Context() != nil {
		return cmd.Context()
	}
	return context.Background()
}

// knownFormats are the words of an --output flag's usage that name formats.
var knownFormats = []string{"table", "json", "yaml", "junit", "versions", "wide", "name"}

// fixedFlags are flags whose values are a fixed list, by flag name.
var fixedFlags = map[string][]string{
	"color":                {"auto", "always", "never"},
	"fail-on":              {"fail", "warn"},
	"segment":              {"S", "M", "L", "XL", "XXL"},
	"priority-class-names": {"docs", "vendor"},
}

// Tree registers the completions of the flags every command of the tree may have, by flag name:
// --hosting, --profile, --to, --tpe-version, --from, --color, --fail-on, --segment,
// --priority-class-names, and --output (whose formats are read from the flag's usage text,
// "output format: table, json or yaml"; an --output that names a file gets none). Flags that
// already have a completion keep it.
func Tree(root *cobra.Command) {
	walk(root, func(cmd *cobra.Command) {
		Flag(cmd, "hosting", Hosting())
		Flag(cmd, "profile", Profiles())
		for name, values := range fixedFlags {
			Flag(cmd, name, Values(values...))
		}
		for _, name := range []string{"to", "tpe-version", "from"} {
			Flag(cmd, name, Releases())
		}
		if f := cmd.Flags().Lookup("output"); f != nil {
			if formats := formatsIn(f.Usage); len(formats) > 0 {
				Flag(cmd, "output", OutputFormats(formats...))
			}
		}
	})
}

func formatsIn(usage string) []string {
	words := strings.FieldsFunc(strings.ToLower(usage), func(r rune) bool {
		return r < 'a' || r > 'z'
	})
	var out []string
	for _, w := range words {
		if slices.Contains(knownFormats, w) && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walk(c, fn)
	}
}
