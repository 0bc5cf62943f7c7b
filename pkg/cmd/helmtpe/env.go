package helmtpe

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// EnvInfo is what `helm tpe env` prints: the Helm settings helm-tpe resolved from Helm's global
// flags (-n, --kube-context, --kubeconfig, --debug), which Helm passes to a plugin as environment
// variables, or from the same flags when helm-tpe runs on its own. It holds no credentials.
type EnvInfo struct {
	Namespace   string `json:"namespace"`
	KubeContext string `json:"kubeContext"`
	KubeConfig  string `json:"kubeconfig"`
	Debug       bool   `json:"debug"`
	HelmDriver  string `json:"helmDriver"`
	// Plugin is true when Helm runs helm-tpe as the `helm tpe` plugin (HELM_PLUGIN_NAME is set).
	Plugin    bool   `json:"plugin"`
	PluginDir string `json:"pluginDir,omitempty"`
	HelmBin   string `json:"helmBin,omitempty"`
}

// EnvOptions are the options of `helm tpe env`.
type EnvOptions struct {
	Output string
	env    *Env
	format cli.Format
	genericiooptions.IOStreams
}

// NewCmdEnv builds `helm tpe env`.
func NewCmdEnv(env *Env) *cobra.Command {
	o := &EnvOptions{Output: "table", env: env, IOStreams: env.Streams}
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print the namespace, context and kubeconfig helm tpe will use",
		Long: templates.LongDesc(`
			Print the Helm settings helm tpe resolved: the namespace, kube-context and kubeconfig
			(from Helm's global flags -n, --kube-context and --kubeconfig, which Helm hands to a
			plugin as HELM_NAMESPACE, HELM_KUBECONTEXT and KUBECONFIG), --debug, the storage driver
			(HELM_DRIVER) and, when run through Helm, the plugin directory and the helm binary.

			Use it to check which cluster and namespace a helm tpe command would act on. The JSON
			and YAML fields are stable: namespace, kubeContext, kubeconfig, debug, helmDriver,
			plugin, pluginDir, helmBin. Nothing secret is printed.`),
		Example: templates.Examples(`
			# Which namespace and context would helm tpe use?
			helm tpe env

			# Helm's global flags reach the plugin
			helm -n thingpark-enterprise --kube-context prod tpe env -o json`),
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json or yaml")
	return cmd
}

// Validate checks --output.
func (o *EnvOptions) Validate() error {
	var err error
	o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML)
	return err
}

// Info returns the resolved settings.
func (o *EnvOptions) Info() EnvInfo {
	s := o.env.Settings
	kubeconfig := s.KubeConfig
	if kubeconfig == "" {
		kubeconfig = os.Getenv("KUBECONFIG")
	}
	driver := os.Getenv("HELM_DRIVER")
	if driver == "" {
		driver = "secret"
	}
	return EnvInfo{
		Namespace:   o.env.namespace(),
		KubeContext: s.KubeContext,
		KubeConfig:  kubeconfig,
		Debug:       s.Debug,
		HelmDriver:  driver,
		Plugin:      os.Getenv("HELM_PLUGIN_NAME") != "",
		PluginDir:   os.Getenv("HELM_PLUGIN_DIR"),
		HelmBin:     os.Getenv("HELM_BIN"),
	}
}

// Run prints the settings.
func (o *EnvOptions) Run() error {
	info := o.Info()
	if !o.format.IsTable() {
		return cli.WriteData(o.Out, o.format, info)
	}
	out, done := cli.Fit(o.Out, o.format)
	defer done()
	return writeEnvTable(out, info)
}

func writeEnvTable(w io.Writer, info EnvInfo) error {
	t := cli.NewTable(w, "SETTING", "VALUE")
	t.Row("namespace", info.Namespace)
	t.Row("kube-context", info.KubeContext)
	t.Row("kubeconfig", info.KubeConfig)
	t.Row("debug", strconv.FormatBool(info.Debug))
	t.Row("helm-driver", info.HelmDriver)
	t.Row("plugin", strconv.FormatBool(info.Plugin))
	if info.Plugin {
		t.Row("plugin-dir", info.PluginDir)
		t.Row("helm-bin", info.HelmBin)
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// offlineNamespace is the namespace of a command that reads no cluster: -n (or HELM_NAMESPACE,
// which Helm sets from it), else the namespace of the vendor's documents; the kubeconfig is not read.
func offlineNamespace(e *Env, cmd *cobra.Command) string {
	if f := cmd.Flag("namespace"); (f != nil && f.Changed) || (os.Getenv("HELM_NAMESPACE") != "" && !e.helmDefaultIgnored) {
		return e.Settings.Namespace()
	}
	return manifest.DefaultNamespace
}
