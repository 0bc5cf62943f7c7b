package kubectltpe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
)

var (
	prereqsLong = `
		Show or create the cluster-wide objects a cluster administrator provides before TPE is
		installed (the prerequisites page, "Cluster wide resources" step):

		* three PriorityClasses, highest first: thingpark-datapath 1000000, thingpark-data
		  999800, thingpark-others 999500 (--priority-class-names=vendor uses the vendor
		  manifest's spelling thingpark-data-path, thingpark-data, thingpark-other);
		* the StorageClasses of the hosting (aks: disk.csi.azure.com, eks: ebs.csi.aws.com,
		  gke: pd.csi.storage.gke.io, all WaitForFirstConsumer; other: one WaitForFirstConsumer
		  class with the provisioner you name). They follow the target release (--to,
		  default the newest): on eks TPE 8.0 uses gp3 volumes (thingpark-csi-gp3-xfs, -ext4),
		  7.x gp2 (thingpark-csi-gp2-xfs, -ext4);
		* the IngressClass nginx-tpe for controller k8s.io/ingress-nginx.

		CRDs and the third-party controllers' ClusterRoles come with the charts and the vendor's
		manifests and are not created here.`

	prereqsExample = templates.Examples(`
		# Review the manifests for AKS
		%[1]s prereqs show --hosting aks

		# Create them with server-side apply
		%[1]s prereqs apply --hosting aks`)

	prereqsShowLong = `
		Print the cluster-wide manifests of the hosting as YAML (or JSON), for review or for your
		own GitOps repository. Nothing is sent to the cluster.`

	prereqsShowExample = templates.Examples(`
		# The objects for EKS, in the vendor manifest's PriorityClass spelling
		%[1]s prereqs show --hosting eks --priority-class-names=vendor

		# The EKS StorageClasses of TPE 7.3 (gp2) rather than 8.0 (gp3)
		%[1]s prereqs show --hosting eks --to v7.3.6

		# For another hosting, with the provisioner of your storage
		%[1]s prereqs show --hosting other --storage-provisioner rancher.io/local-path`)

	prereqsApplyLong = `
		Apply the cluster-wide objects with server-side apply under field manager kubectl-tpe,
		and report per object: created, configured, unchanged or conflict. A field owned by
		another field manager (kubectl, helm, a GitOps tool) is never overwritten unless you pass
		--force-conflicts. PriorityClass values and StorageClass parameters are immutable in
		Kubernetes: such a difference is reported as failed, and you must delete the object first.

		--dry-run=client only reads (three lists, no mutating request); --dry-run=server asks the
		API server to validate the apply without persisting it.

		With --to RELEASE (and no --hosting) it applies instead the cluster-admin steps of every
		hop from the installed release (read from the namespace's Helm releases, or --from) to
		RELEASE, in order, as helm tpe plan lists them:

		* the operators' CRDs by server-side apply, one version at a time (the Percona MongoDB
		  operator 1.14.0, 1.15.0, 1.16.1, 1.17.0 on the 8.0 hop, with its namespaced RBAC
		  first; Strimzi 0.44.0), each verified before the next: Established, and matching the
		  vendor's manifest of that version (served and storage versions, schemas);
		* the PriorityClasses the values (-f) name, in their spelling; without one, the spelling
		  of the vendor's examples/priority-class/default.yaml (thingpark-data-path,
		  thingpark-data, thingpark-other); the output says which;
		* the StorageClasses the values name that the vendor's examples/storage files define.

		The manifests come from the vendor's configuration repository at the release's ref
		(HTTPS), or from a release bundle (--bundle) at a site without internet access. A step
		already done makes no request: a second run says "nothing to do". A CRD newer than a
		step is never downgraded; CRDs that match no known version stop the run. An interrupted
		run is resumed by running it again: the live CRDs tell where it stopped (a version half
		applied is applied again). The permissions are checked before any change: run as the
		operator, the command names what is missing and changes nothing. A conflict with an
		earlier owner of the fields (Helm installed the 7.x CRDs) is explained; review the
		change with --dry-run=server (a diff), then pass --force-conflicts.

		Exit codes: 0 applied, 2 a conflict or a failure on some object, 1 error.`

	prereqsApplyExample = templates.Examples(`
		# Create the prerequisites on GKE
		%[1]s prereqs apply --hosting gke

		# What would change, without a single mutating request
		%[1]s prereqs apply --hosting other --storage-provisioner rancher.io/local-path --dry-run=client

		# Take over fields another tool set
		%[1]s prereqs apply --hosting aks --force-conflicts

		# The cluster-admin steps of the upgrade to 8.0: review the changes, then apply them
		%[1]s prereqs apply --to v8.0.0 -f values.yaml --dry-run=server
		%[1]s prereqs apply --to v8.0.0 -f values.yaml --force-conflicts

		# The same at a site without internet access
		%[1]s prereqs apply --to v8.0.0 -f values.yaml --bundle tpe-v8.0.0.tar.gz`)
)

// PrereqsOptions are the options shared by `prereqs show` and `prereqs apply`.
type PrereqsOptions struct {
	Config         prereq.Config
	Output         string
	DryRun         string
	ForceConflicts bool
	// Steps select the cluster-admin steps of a path (prereqs apply --to).
	Steps stepsFlags

	format cli.Format
	// note says what --to resolved to, when that is not plain.
	note string
	genericiooptions.IOStreams
}

// NewPrereqsOptions returns the defaults.
func NewPrereqsOptions(streams genericiooptions.IOStreams) *PrereqsOptions {
	return &PrereqsOptions{
		Config: prereq.Config{PriorityClassNames: prereq.SpellingDocs, StorageClassName: prereq.DefaultOtherStorageClass,
			IngressClassName: "nginx-tpe"},
		DryRun: prereq.DryRunNone, IOStreams: streams,
	}
}

func (o *PrereqsOptions) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&o.Config.Hosting, "hosting", o.Config.Hosting, "Hosting of the cluster: aks, eks, gke or other (required)")
	fl.StringVar(&o.Config.PriorityClassNames, "priority-class-names", o.Config.PriorityClassNames, "PriorityClass spelling: docs (thingpark-datapath, -data, -others) or vendor (thingpark-data-path, -data, -other)")
	fl.StringVar(&o.Config.StorageClassName, "storage-class-name", o.Config.StorageClassName, "Name of the StorageClass for --hosting other")
	fl.StringVar(&o.Config.Provisioner, "storage-provisioner", o.Config.Provisioner, "Provisioner (CSI driver) of the StorageClass for --hosting other")
	fl.StringVar(&o.Config.IngressClassName, "ingress-class-name", o.Config.IngressClassName, "Name of the IngressClass")
	fl.StringVar(&o.Config.TPEVersion, "to", o.Config.TPEVersion, "Target TPE `RELEASE`, e.g. v7.3.6 (default: the newest known release); on eks, 8.0 uses gp3 StorageClasses, 7.x gp2")
	cli.AliasFlag(fl, "to", "tpe-version")
}

// NewCmdPrereqs builds `kubectl tpe prereqs`.
func NewCmdPrereqs(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "prereqs",
		Short:   "Show or create the cluster-wide TPE prerequisites",
		Long:    prereqsLong,
		Example: fmt.Sprintf(prereqsExample, DisplayName),
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(newCmdPrereqsShow(streams), newCmdPrereqsApply(f, streams))
	return cmd
}

func newCmdPrereqsShow(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewPrereqsOptions(streams)
	o.Output = "yaml"
	cmd := &cobra.Command{
		Use:     "show",
		Short:   "Print the cluster-wide manifests for review",
		Long:    prereqsShowLong,
		Example: fmt.Sprintf(prereqsShowExample, DisplayName),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(false); err != nil {
				return err
			}
			return o.RunShow()
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "Output format: yaml or json")
	return cmd
}

// Validate checks the flags.
func (o *PrereqsOptions) Validate(apply bool) error {
	if apply && o.stepsMode() {
		return o.validateApply()
	}
	if apply && o.Steps.To != "" && o.Config.TPEVersion == "" {
		o.Config.TPEVersion = o.Steps.To
	}
	if o.Config.Hosting == "" {
		if apply {
			return fmt.Errorf("--hosting or --to is required: --hosting (one of %s) applies the objects of a hosting, --to RELEASE the cluster-admin steps of the path to RELEASE", strings.Join(prereq.Hostings, ", "))
		}
		return fmt.Errorf("--hosting is required: one of %s", strings.Join(prereq.Hostings, ", "))
	}
	if err := o.Config.Validate(); err != nil {
		var ce *prereq.ConfigError
		if errors.As(err, &ce) {
			flag := map[string]string{prereq.FieldHosting: "--hosting", prereq.FieldPriorityClassNames: "--priority-class-names",
				prereq.FieldProvisioner: "--storage-provisioner"}[ce.Field]
			return fmt.Errorf("%s %w", flag, ce.Err)
		}
		return err
	}
	// An unknown release is bad input: its objects would be guessed.
	res, err := manifest.MustLoad().ResolveRelease(manifest.Request{Name: o.Config.TPEVersion})
	if err != nil {
		return manifest.InputError(err, "--to", "")
	}
	o.Config.TPEVersion, o.note = res.Release.Name, res.Note
	if apply {
		if o.Steps.From != "" || o.Steps.Bundle != "" || len(o.Steps.ValueFiles) > 0 {
			return fmt.Errorf("--from, --bundle and -f select the cluster-admin steps of --to: drop --hosting to apply them")
		}
		return o.validateApply()
	}
	o.format, err = cli.ParseFormat(o.Output, cli.FormatYAML, cli.FormatJSON)
	return err
}

// RunShow prints the manifests.
func (o *PrereqsOptions) RunShow() error {
	if o.note != "" {
		fmt.Fprintf(o.ErrOut, "Note: %s\n", o.note)
	}
	objs := prereq.Build(o.Config)
	if o.format == cli.FormatJSON {
		items := []any{}
		for _, p := range objs.PriorityClasses {
			items = append(items, p)
		}
		for _, s := range objs.StorageClasses {
			items = append(items, s)
		}
		items = append(items, objs.IngressClass)
		return cli.WriteJSON(o.Out, map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	}
	y, err := objs.YAML()
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(o.Out, y)
	return err
}
