// Package helmtpe is the cobra command tree of `helm tpe`.
package helmtpe

import (
	"os"
	"time"

	"github.com/spf13/cobra"
	helmcli "helm.sh/helm/v3/pkg/cli"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/complete"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/vocab"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

// DisplayName is how the command is shown in help and examples.
const DisplayName = "helm tpe"

var rootLong = templates.LongDesc(`
	helm tpe installs, upgrades and rolls back a ThingPark Enterprise (TPE) release: four Helm
	charts whose versions are fixed by the release manifest (the VERSIONS file of the release).

	It validates the manifest, the repository credentials (the installation ID) and the upgrade
	path, shows a plan, then installs or upgrades the four charts in order with the waits and
	checks in between, records its progress so that an interrupted run can be resumed, and
	follows the vendor's rollback procedure.

	Run as a Helm plugin, it takes Helm's global flags (-n, --kube-context, --kubeconfig) through
	the HELM_NAMESPACE, HELM_KUBECONTEXT and KUBECONFIG variables Helm exports; run on its own,
	it takes the same flags.

	The namespace is -n, else the kube context's namespace, else thingpark-enterprise (the
	vendor's). Namespace default is never taken by chance: Helm exports HELM_NAMESPACE=default
	when neither -n nor the kube context names a namespace, and also for "helm -n default", so
	through Helm "default" means thingpark-enterprise; to work in namespace default, run helm-tpe
	on its own with -n default. "helm tpe env" shows the namespace in use.

	Exit codes: 0 success, 1 error (bad input, an API server that does not answer), 2 the target
	cannot be reached or a step failed, 130 interrupted (Ctrl-C; 143 for SIGTERM).`)

// Env is what every helm tpe command shares: Helm's settings and the IO streams. Clients and the
// Helm action configuration are built on first use (Cluster), so that commands which need no
// cluster (releases, manifest, repo add) run without a kubeconfig.
type Env struct {
	Settings *helmcli.EnvSettings
	Streams  genericiooptions.IOStreams
	// RequestTimeout is --request-timeout.
	RequestTimeout time.Duration

	cluster *Cluster
	// helmDefaultIgnored: HELM_NAMESPACE=default from Helm was treated as unset (root).
	helmDefaultIgnored bool
}

// WithCluster makes every command of env use cl instead of building clients from the kubeconfig.
func (e *Env) WithCluster(cl *Cluster) *Env {
	e.cluster = cl
	return e
}

// NewCmdRoot builds the `helm tpe` command tree.
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	return NewCmdRootWith(&Env{Settings: helmcli.New(), Streams: streams})
}

// NewCmdRootWith builds the tree on an Env: tests hand in one whose cluster is already built
// (WithCluster) on Helm's memory storage and fake clients.
//
// Everything the tree prints, and its errors, go through one Redactor (URL credentials always; the
// values' secrets and the installation ID once a command read them: hideValues).
func NewCmdRootWith(env *Env) *cobra.Command {
	red := redact.New()
	// The library names our commands and flags by key (pkg/cmd/vocab): filled below the redactor.
	env.Streams.Out, env.Streams.ErrOut = red.Writer(vocab.Helm.Writer(env.Streams.Out)), red.Writer(vocab.Helm.Writer(env.Streams.ErrOut))
	settings, streams := env.Settings, env.Streams
	cmd := &cobra.Command{
		Use:   "helm-tpe",
		Short: "Install, upgrade and roll back a ThingPark Enterprise release",
		Long:  rootLong,
		Example: templates.Examples(`
			# Which releases exist, and what an upgrade to 7.3.1 involves
			helm tpe releases
			helm tpe plan --to v7.3.1 -f values.yaml

			# Add the vendor repository, then upgrade with resume on failure
			helm tpe repo add --installation-id-file ~/.tpe/installation-id
			helm tpe upgrade --to v7.3.1 -f values.yaml`),
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: DisplayName},
	}
	cmd.CompletionOptions.HiddenDefaultCmd = true
	// Helm strips its global flags before it runs a plugin and exports them as HELM_* variables,
	// which helmcli.New() has read. Declaring the same flags here lets helm-tpe run on its own too.
	settings.AddFlags(cmd.PersistentFlags())
	// Helm has no request timeout: this is kubectl's flag, with a default (kube.DefaultRequestTimeout).
	cmd.PersistentFlags().DurationVar(&env.RequestTimeout, "request-timeout", kube.DefaultRequestTimeout,
		kube.RequestTimeoutUsage)
	cmd.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		// Helm exports HELM_NAMESPACE=default to a plugin whenever neither -n nor the kube context
		// names a namespace, so "default" from Helm is not a choice: it is treated as unset (the
		// TPE namespace, as helm-tpe run on its own), and only -n default on helm-tpe's own
		// command line selects namespace default. See the root's help.
		if f := c.Flags().Lookup("namespace"); (f == nil || !f.Changed) && os.Getenv("HELM_NAMESPACE") == "default" {
			settings.SetNamespace("")
			env.helmDefaultIgnored = true
		}
		// helm-diff does the same: a KUBECONFIG path list is for client-go's loader, not a single file.
		if settings.KubeConfig != "" && containsPathListSep(settings.KubeConfig) {
			settings.KubeConfig = ""
		}
		setUserAgent(settings, env.RequestTimeout)
		return nil
	}
	cmd.AddCommand(
		NewCmdReleases(streams),
		NewCmdManifest(streams),
		NewCmdRepo(env),
		NewCmdPlan(env),
		NewCmdImages(env),
		NewCmdRun(env, plan.ActionInstall),
		NewCmdRun(env, plan.ActionUpgrade),
		NewCmdRollback(env),
		NewCmdValues(env),
		NewCmdBundle(env),
		NewCmdEnv(env),
		NewCmdVersion(streams),
	)
	// Completion last: it walks the whole tree. Run through Helm, `helm tpe <TAB>` is answered by
	// plugin.complete, which calls `helm-tpe __complete ...`; Helm completes its own global flags
	// (-n, --kube-context) itself, the registrations below serve helm-tpe run on its own.
	getter := settings.RESTClientGetter()
	complete.Flag(cmd, "namespace", complete.Namespaces(getter))
	complete.Flag(cmd, "kube-context", complete.Contexts(getter))
	complete.Tree(cmd)
	cli.RedactErrors(cmd, func(msg string) string { return red.String(vocab.Helm.Fill(msg)) })
	return cmd
}

func containsPathListSep(s string) bool {
	for _, c := range s {
		if c == os.PathListSeparator {
			return true
		}
	}
	return false
}
