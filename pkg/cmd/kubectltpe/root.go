// Package kubectltpe is the cobra command tree of `kubectl tpe`.
package kubectltpe

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/complete"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/vocab"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

// DisplayName is how the command is shown in help and examples.
const DisplayName = "kubectl tpe"

var rootLong = `
	kubectl tpe checks and prepares a Kubernetes cluster for ThingPark Enterprise (TPE), and
	watches a TPE installation during and after an upgrade.

	Cluster administrators use "preflight" and "prereqs" to verify and create the cluster-wide
	prerequisites (PriorityClasses, StorageClasses, IngressClass, CRDs, RBAC). TPE operators use
	"wait", "pum" and "status" during a maintenance window, and "support-bundle" to open a ticket.

	Exit codes: 0 success, 1 error (bad input, API error, an API server that does not answer), 2 a
	check failed or a wait timed out, 130 interrupted (Ctrl-C; 143 for SIGTERM).`

// NewCmdRoot builds the `kubectl tpe` command tree. Everything it prints, and its errors, go
// through one Redactor (URL credentials always; the values' secrets once a command read them).
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	red := redact.New()
	// The library names our commands and flags by key (pkg/cmd/vocab): filled below the redactor.
	streams.Out, streams.ErrOut = red.Writer(vocab.Kubectl.Writer(streams.Out)), red.Writer(vocab.Kubectl.Writer(streams.ErrOut))
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
	// kubectl waits for ever by default; a maintenance-window tool says within seconds that the
	// API server does not answer (kube.DefaultRequestTimeout, see docs/reliability.md).
	*configFlags.Timeout = kube.DefaultRequestTimeout.String()
	configFlags.AddFlags(flags)
	flags.Lookup("request-timeout").Usage = kube.RequestTimeoutUsage
	// --context A --context B: several installations (status, preflight); one keeps kubectl's meaning.
	fleetcmd.WrapContext(flags, "context")
	addKlogFlags(cmd)
	f := cmdutil.NewFactory(cmdutil.NewMatchVersionFlags(configFlags))

	cmd.AddCommand(
		NewCmdPreflight(f, streams),
		NewCmdPrereqs(f, streams),
		NewCmdWait(f, streams),
		NewCmdPUM(f, streams),
		NewCmdStatus(f, streams),
		NewCmdSupportBundle(f, streams),
		NewCmdCompletion(streams),
		NewCmdVersion(streams),
	)
	// Completions last: complete.Tree walks the whole tree, so every command must be in it.
	// TestFlagCompletionsAreWired fails if a flag loses its completion.
	complete.Flag(cmd, "namespace", complete.Namespaces(f))
	complete.Flag(cmd, "context", complete.Contexts(f))
	complete.Tree(cmd)
	// The Long texts are formatted (templates.LongDesc, a markdown pass of ~30 ms for the tree)
	// only when help is shown, not on every run: `kubectl tpe version` pays nothing for them.
	help := cmd.HelpFunc()
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		formatLong(c)
		help(c, args)
	})
	cli.RedactErrors(cmd, func(msg string) string { return red.String(vocab.Kubectl.Fill(msg)) })
	return cmd
}

// formattedAnnotation marks a command whose Long text has been formatted.
const formattedAnnotation = "kubectl-tpe/long-formatted"

// formatLong formats the Long text of c once.
func formatLong(c *cobra.Command) {
	if c.Annotations[formattedAnnotation] != "" {
		return
	}
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Long = templates.LongDesc(c.Long)
	c.Annotations[formattedAnnotation] = "true"
}

// FormatHelp formats the Long text of every command of the tree, as help shows it (for the
// generated reference pages).
func FormatHelp(root *cobra.Command) {
	formatLong(root)
	for _, c := range root.Commands() {
		FormatHelp(c)
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

// clientsFor builds the clients of a command (kube.NewClients, which probes the API server once)
// and, when the server does not answer, says what to check with kubectl's flag names. Later, a
// line on errOut says when the server stops answering and when it is back (kube.Health).
func clientsFor(ctx context.Context, f cmdutil.Factory, errOut io.Writer) (*kube.Clients, error) {
	c, err := kube.NewClients(ctx, f)
	var ue *kube.UnreachableError
	if errors.As(err, &ue) {
		return nil, fmt.Errorf("%w: check that KUBECONFIG (or --kubeconfig) and --context name the TPE cluster and that it is up; --request-timeout sets how long to wait", err)
	}
	var ke *kube.KubeconfigError
	if errors.As(err, &ke) {
		return nil, ke.WithFlags("--kubeconfig", "--context")
	}
	if err != nil {
		return nil, err
	}
	c.Health.OnChange(kube.HealthLines(errOut))
	return c, nil
}
