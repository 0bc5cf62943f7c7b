// Package kubectltpe is the cobra command tree of `kubectl tpe`.
package kubectltpe

import (
	"flag"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"
)

// DisplayName is how the command is shown in help and examples.
const DisplayName = "kubectl tpe"

var rootLong = templates.LongDesc(`
	kubectl tpe checks and prepares a Kubernetes cluster for ThingPark Enterprise (TPE), and
	watches a TPE installation during and after an upgrade.

	Cluster administrators use "preflight" and "prereqs" to verify and create the cluster-wide
	prerequisites (PriorityClasses, StorageClasses, IngressClass, CRDs, RBAC). TPE operators use
	"wait", "pum" and "status" during a maintenance window, and "support-bundle" to open a ticket.

	Exit codes: 0 success, 1 error (bad input, API error), 2 a check failed or a wait timed out.`)

// NewCmdRoot builds the `kubectl tpe` command tree.
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:           "kubectl-tpe",
		Short:         "Check, prepare and watch a ThingPark Enterprise cluster",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: DisplayName},
	}
	cmd.CompletionOptions.HiddenDefaultCmd = true
	flags := cmd.PersistentFlags()
	configFlags := genericclioptions.NewConfigFlags(true).WithDeprecatedPasswordFlag().WithDiscoveryBurst(300).WithDiscoveryQPS(50)
	configFlags.AddFlags(flags)
	addKlogFlags(cmd)
	f := cmdutil.NewFactory(cmdutil.NewMatchVersionFlags(configFlags))

	cmd.AddCommand(NewCmdVersion(streams))
	addCommands(cmd, f, streams)
	return cmd
}

// commandAdders lets each subcommand file register itself, so root.go does not change for
// every new command.
var commandAdders []func(root *cobra.Command, f cmdutil.Factory, streams genericiooptions.IOStreams)

func addCommands(root *cobra.Command, f cmdutil.Factory, streams genericiooptions.IOStreams) {
	for _, add := range commandAdders {
		add(root, f, streams)
	}
}

// addKlogFlags exposes only -v of klog, as kubectl plugins usually do.
func addKlogFlags(cmd *cobra.Command) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if v := fs.Lookup("v"); v != nil {
		cmd.PersistentFlags().AddGoFlag(v)
	}
}
