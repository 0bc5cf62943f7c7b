package kubectltpe

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/netprobe"
	"github.com/thingpark-tools/kubectl-tpe/pkg/preflight"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
)

// PreflightOptions are the options of `kubectl tpe preflight`.
type PreflightOptions struct {
	Profile            string
	TPEVersion         string
	Manifest           string
	Hosting            string
	ValuesFiles        []string
	Segment            string
	Hostname           string
	Output             string
	FailOn             string
	Strict             bool
	Probe              bool
	ProbeTimeout       time.Duration
	ChartRepo          string
	ConfigRepo         string
	NetworkTest        bool
	NetworkTestImage   string
	NetworkTestTimeout time.Duration
	Bundle             string
	PullTimeout        time.Duration
	TLSCert            string
	TLSKey             string
	TLSCA              string
	PriorityClassNames string
	StorageClassName   string
	StorageProvisioner string
	Color              string
	Only               []string
	Skip               []string
	// Fleet chooses several installations (--context repeated, --all-contexts, --fleet).
	Fleet fleetcmd.Flags

	format  cli.Format
	clients *kube.Clients
	cfg     preflight.Config
	genericiooptions.IOStreams
}

// NewPreflightOptions returns the defaults.
func NewPreflightOptions(streams genericiooptions.IOStreams) *PreflightOptions {
	return &PreflightOptions{
		Output: "table", FailOn: "fail", ProbeTimeout: netprobe.DefaultTimeout,
		ChartRepo: preflight.DefaultChartRepo, ConfigRepo: preflight.DefaultConfigRepo,
		NetworkTestImage: netprobe.DefaultNetworkTestImage, NetworkTestTimeout: 2 * time.Minute, PullTimeout: 5 * time.Minute,
		PriorityClassNames: prereq.SpellingDocs, StorageClassName: prereq.DefaultOtherStorageClass,
		Color: "auto", IOStreams: streams,
	}
}

// NewCmdPreflight builds `kubectl tpe preflight`.
func NewCmdPreflight(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewPreflightOptions(streams)
	cmd := &cobra.Command{
		Use:     "preflight",
		Short:   "Check the cluster against the TPE prerequisites",
		Long:    preflightLong,
		Example: fmt.Sprintf(preflightExample, DisplayName),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if o.Fleet.Contexts = fleetcmd.Contexts(cmd); o.Fleet.Active() {
				return o.runFleet(cmd.Context(), cmd, func() error { return o.Complete(cmd.Context(), f) })
			}
			if err := o.Complete(cmd.Context(), f); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Profile, "profile", o.Profile, "Account profile whose permissions are checked: admin, operator or all (default: all for a cluster administrator, else operator)")
	fl.StringVar(&o.TPEVersion, "to", o.TPEVersion, "Target TPE `RELEASE`, e.g. v7.3.1 (default: the newest known release)")
	cli.AliasFlag(fl, "to", "tpe-version")
	fl.StringVar(&o.Manifest, "manifest", o.Manifest, "Release manifest (VERSIONS file) of the target release, instead of --to")
	fl.StringVar(&o.Hosting, "hosting", o.Hosting, "Hosting of the cluster: aks, eks, gke or other (selects the expected StorageClasses and CSI driver)")
	fl.StringArrayVarP(&o.ValuesFiles, "values", "f", o.ValuesFiles, "TPE values file the operator installs with (repeatable, merged like helm -f)")
	fl.StringVar(&o.Segment, "segment", o.Segment, "Sizing segment: S, M, L, XL or XXL (judges allocatable CPU and memory)")
	fl.StringVar(&o.Hostname, "hostname", o.Hostname, "Public TPE host name the certificate must cover (default: global.dnsHostname of the values)")
	fl.StringVarP(&o.Output, "output", "o", o.Output, "Output format: table, json, yaml or junit")
	fl.StringVar(&o.FailOn, "fail-on", o.FailOn, "Exit with code 2 when a check reaches this status: fail or warn")
	fl.BoolVar(&o.Strict, "strict", o.Strict, "Fail (instead of warn) when Kubernetes is newer than the versions validated for the release")
	fl.BoolVar(&o.Probe, "probe", o.Probe, "Open network connections from this machine: SMTP relay, OIDC issuer, backup storage, chart and configuration repositories")
	fl.DurationVar(&o.ProbeTimeout, "probe-timeout", o.ProbeTimeout, "Timeout of each --probe connection")
	fl.StringVar(&o.ChartRepo, "chart-repo", o.ChartRepo, "Vendor Helm chart repository probed by --probe")
	fl.StringVar(&o.ConfigRepo, "config-repo", o.ConfigRepo, "Base URL of the configuration repository holding <release>/VERSIONS, probed by --probe")
	fl.BoolVar(&o.NetworkTest, "network-test", o.NetworkTest, "Run iperf3 probe pods, one per zone, to measure inter-zone latency and bandwidth (they are removed afterwards)")
	fl.StringVar(&o.NetworkTestImage, "network-test-image", o.NetworkTestImage, "Image of the --network-test pods (iperf3 as entrypoint)")
	fl.DurationVar(&o.NetworkTestTimeout, "network-test-timeout", o.NetworkTestTimeout, "Time limit of --network-test")
	fl.StringVar(&o.Bundle, "bundle", o.Bundle, "Release bundle `FILE` the site installs from (made by helm tpe bundle create): verify it instead of probing the vendor's repositories, and with --probe check that the cluster can pull its images; its target is the default --to")
	fl.DurationVar(&o.PullTimeout, "pull-timeout", o.PullTimeout, "Time limit of the image pull test of --bundle --probe")
	fl.StringVar(&o.TLSCert, "tls-cert", o.TLSCert, "PEM file of the server certificate (then its chain) to verify, instead of the values' global.ingress.tls")
	fl.StringVar(&o.TLSKey, "tls-key", o.TLSKey, "PEM file of the private key of --tls-cert")
	fl.StringVar(&o.TLSCA, "tls-ca", o.TLSCA, "PEM file of the CA that issued --tls-cert")
	fl.StringVar(&o.PriorityClassNames, "priority-class-names", o.PriorityClassNames, "PriorityClass spelling expected first: docs (thingpark-datapath, -data, -others) or vendor (thingpark-data-path, -data, -other)")
	fl.StringVar(&o.StorageClassName, "storage-class-name", o.StorageClassName, "StorageClass expected for --hosting other")
	fl.StringVar(&o.StorageProvisioner, "storage-provisioner", o.StorageProvisioner, "Provisioner named in the remediation for --hosting other")
	cli.ColorFlag(fl, &o.Color)
	fl.StringSliceVar(&o.Only, "only", o.Only, "Run only these checks: ids, id globs (tls.*) or categories (TLS), comma-separated; TLS, values and backup checks need no cluster")
	fl.StringSliceVar(&o.Skip, "skip", o.Skip, "Do not run these checks: ids, id globs or categories, comma-separated")
	o.Fleet.Add(fl)
	return cmd
}
