package kubectltpe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/vocab"
	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/preflight"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
	"github.com/thingpark-tools/kubectl-tpe/pkg/supportbundle"
)

var (
	supportBundleLong = `
		Collect what the vendor's support asks for when an upgrade goes wrong into one .tar.gz to
		attach to a ticket:

		* preflight.json and status.json (the reports of "preflight" and "status");
		* pum/status.txt and pum/status.json (the raw and parsed post-upgrade status);
		* the logs of the pods of Job pum-process and of the pods that are not ready (the last
		  2000 lines of each container, and of its previous instance when it restarted);
		* events.json, workloads.json, helm/releases.json (chart, version, revision and status of
		  every revision; never values or manifests), cluster/nodes.json, cluster/storage.json;
		* manifest.json, which lists every file and every part that was skipped, and why.

		Secrets are never read, and anything in logs and events that looks like a credential
		(passwords, keys, tokens, user:password@ in URLs, private keys) is replaced by
		***REDACTED***. Parts you may not read are skipped with a note instead of failing.`

	supportBundleExample = templates.Examples(`
		# Write tpe-support-bundle-<namespace>-<time>.tar.gz in the current directory
		%[1]s support-bundle

		# Choose the file name
		%[1]s support-bundle -n thingpark-enterprise --output-file /tmp/ticket-1234.tar.gz

		# List what a bundle contains
		tar -xOzf /tmp/ticket-1234.tar.gz manifest.json`)
)

// SupportBundleOptions are the options of `kubectl tpe support-bundle`.
type SupportBundleOptions struct {
	// File is the bundle to write (--output-file); Output the format of the summary (-o).
	File   string
	Output string

	Namespace string
	Client    kubernetes.Interface
	Exec      podexec.Executor
	Now       func() time.Time

	genericiooptions.IOStreams
}

// NewCmdSupportBundle builds `kubectl tpe support-bundle`.
func NewCmdSupportBundle(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &SupportBundleOptions{IOStreams: streams, Now: time.Now}
	cmd := &cobra.Command{
		Use:     "support-bundle [--output-file file.tar.gz]",
		Short:   "Collect reports, logs and events into a .tar.gz for the vendor's support (no secrets)",
		Long:    supportBundleLong,
		Example: fmt.Sprintf(supportBundleExample, DisplayName),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Client == nil {
				c, err := clientsFor(cmd.Context(), f, o.ErrOut)
				if err != nil {
					return err
				}
				o.Client, o.Namespace = c.Kube, c.TPENamespace()
				o.Exec = podexec.Kube{Client: c.Kube, Config: c.Config}
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.File, "output-file", o.File, "`FILE` to write (default tpe-support-bundle-<namespace>-<UTC time>.tar.gz); it must not exist")
	cli.AliasFlag(cmd.Flags(), "output-file", "file")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "format of the summary: table, json or yaml (the bundle file is --output-file)")
	return cmd
}

// Run writes the bundle.
func (o *SupportBundleOptions) Run(ctx context.Context) error {
	format, path, err := cli.FileAndFormat(o.Output, o.File, o.ErrOut, cli.FormatTable, cli.FormatJSON, cli.FormatYAML)
	if err != nil {
		return err
	}
	if path == "" {
		path = fmt.Sprintf("tpe-support-bundle-%s-%s.tar.gz", o.Namespace, o.Now().UTC().Format("20060102T150405Z"))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("--output-file %s: the file exists; choose another name or remove it", path)
	}
	if err != nil {
		return fmt.Errorf("--output-file %s: %w", path, err)
	}
	fmt.Fprintf(o.ErrOut, "Collecting the support bundle of namespace %s ...\n", o.Namespace)
	v := cli.Version()
	m, err := supportbundle.Write(ctx, f, supportbundle.Config{Namespace: o.Namespace, Client: o.Client, Exec: o.Exec,
		Tool: "kubectl-tpe " + v.Version, Now: o.Now, Preflight: o.preflight, Words: vocab.Kubectl.Fill})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return err
	}
	for _, s := range m.Skipped {
		fmt.Fprintf(o.ErrOut, "skipped %s: %s\n", s.Part, s.Reason)
	}
	if format != cli.FormatTable {
		return cli.WriteData(o.Out, format, SupportBundleResult{File: path, Files: len(m.Files), Skipped: len(m.Skipped), Redactions: m.Redactions})
	}
	fmt.Fprintf(o.Out, "wrote %s: %d files, %d part(s) skipped, %d value(s) redacted (see manifest.json)\n", path, len(m.Files), len(m.Skipped), m.Redactions)
	return nil
}

// SupportBundleResult is the -o json|yaml summary of `support-bundle`.
type SupportBundleResult struct {
	File       string `json:"file"`
	Files      int    `json:"files"`
	Skipped    int    `json:"skipped"`
	Redactions int    `json:"redactions"`
}

// preflight runs the preflight checks against the installed release (or the newest one), with
// the operator's or admin's profile as the user's rights allow; no values, no network probes.
func (o *SupportBundleOptions) preflight(ctx context.Context) (*check.Report, error) {
	m := manifest.MustLoad()
	version := ""
	if rels, err := helmstore.List(ctx, o.Client, o.Namespace); err == nil {
		installed := map[string]manifest.ChartRef{}
		for _, r := range rels {
			installed[r.Name] = manifest.ChartRef{ReleaseName: r.Name, Chart: r.Chart, Version: r.ChartVersion}
		}
		if ms := m.Match(installed); len(ms) > 0 {
			version = ms[0].Name
		}
	}
	target, err := preflight.ResolveTarget(m, manifest.Request{Name: version})
	if err != nil {
		return nil, err
	}
	reviewer := rbac.SelfReviewer{Client: o.Client}
	return preflight.Run(ctx, o.Client, preflight.Config{Profile: preflight.DetectProfile(ctx, reviewer), Target: target,
		Namespace: o.Namespace, Reviewer: reviewer, Now: o.Now})
}
