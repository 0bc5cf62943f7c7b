package helmtpe

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
)

// ValuesGetOptions are the options of `helm tpe values get`.
type ValuesGetOptions struct {
	Dir    string
	Output string
	env    *Env
	format cli.Format
	genericiooptions.IOStreams
}

// SavedValues is one file written by `values get`.
type SavedValues struct {
	ReleaseName string `json:"releaseName"`
	File        string `json:"file"`
	Keys        int    `json:"keys"`
}

// NewCmdValues builds `helm tpe values` and its subcommands.
func NewCmdValues(env *Env) *cobra.Command {
	v := &cobra.Command{
		Use:   "values",
		Short: "Work with the values of the installed TPE releases",
		Long: templates.LongDesc(`
			Work with the values of the four installed TPE releases.`),
		Example: templates.Examples(`
			# Save the user-supplied values of the installed releases
			helm tpe values get -d ./tpe-values`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	v.AddCommand(NewCmdValuesGet(env))
	return v
}

// NewCmdValuesGet builds `helm tpe values get`.
func NewCmdValuesGet(env *Env) *cobra.Command {
	o := &ValuesGetOptions{Dir: ".", Output: "table", env: env, IOStreams: env.Streams}
	cmd := &cobra.Command{
		Use:   "get [-d DIR]",
		Short: "Save the user-supplied values of the four installed releases to files (mode 0600)",
		Long: templates.LongDesc(`
			Save the user-supplied values of the four installed TPE releases (what "helm get values"
			shows) to DIR/<release>.yaml, mode 0600: they hold the installation ID and passwords. They are
			the starting point of "retrieve your previous values files and update them with the new
			sample" of the TPE upgrade procedure; check them against a target with "helm tpe plan --to RELEASE -f ...".
			The values themselves are never printed.`),
		Example: templates.Examples(`
			# Save the values into ./tpe-values
			helm tpe values get -d ./tpe-values -n thingpark-enterprise

			# Then check them against the next release
			helm tpe plan --to v7.3.1 -f tpe-values/tpe.yaml`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&o.Dir, "dir", "d", o.Dir, "directory to write the files into (created with mode 0700)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "format of the list of files: table, wide, json or yaml")
	return cmd
}

// Run writes the files.
func (o *ValuesGetOptions) Run(ctx context.Context) error {
	cl, err := o.env.Cluster(ctx)
	if err != nil {
		return err
	}
	all, err := plan.UserValues(cl.Action)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return fmt.Errorf("no TPE release is installed in namespace %s", cl.Namespace)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("creating --dir %s: %w", o.Dir, err)
	}
	var saved []SavedValues
	for _, n := range []string{"tpe-data-controllers", "tpe-data", "tpe-controllers", "tpe"} {
		v, ok := all[n]
		if !ok {
			continue
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		f := filepath.Join(o.Dir, n+".yaml")
		if err := writePrivate(f, b); err != nil {
			return err
		}
		saved = append(saved, SavedValues{ReleaseName: n, File: f, Keys: len(v)})
	}
	if !o.format.IsTable() {
		return cli.WriteData(o.Out, o.format, saved)
	}
	out, done := cli.Fit(o.Out, o.format)
	defer done()
	t := cli.NewTable(out, "RELEASE", "FILE", "TOP-LEVEL KEYS")
	for _, s := range saved {
		t.Row(s.ReleaseName, s.File, fmt.Sprint(s.Keys))
	}
	return t.Render()
}

// writePrivate writes a file readable by its owner only, even if it existed with wider rights.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
