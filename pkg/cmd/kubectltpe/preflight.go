package kubectltpe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cmd/fleetcmd"
	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/netprobe"
	"github.com/thingpark-tools/kubectl-tpe/pkg/preflight"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

var (
	preflightLong = `
		Check a Kubernetes cluster against every requirement of the TPE cluster prerequisites
		page, as named checks with a status (pass, warn, fail, skip, manual), a message that names
		the object, and a remediation:

		 1. Kubernetes version against the range of the target TPE release (newer than validated
		    warns; --strict makes it fail).
		 2. PriorityClasses: the three classes in either spelling, values in the right order.
		 3. StorageClasses: dynamic provisioning, the classes of the values or the hosting, the
		    hosting's CSI driver, WaitForFirstConsumer binding, volume expansion.
		 4. IngressClass nginx-tpe (or the values' class) and its controller.
		 5. CRD groups of Strimzi, Percona MongoDB and cert-manager, or the right to create them.
		 6. Admin profile RBAC and 7. operator profile RBAC: every missing (verb, group, resource);
		    when the whole admin ClusterRole is missing in the namespace, the one RoleBinding of
		    ClusterRole admin that fixes it.
		 8. Nodes: three schedulable nodes in three zones (a node with a NoSchedule or NoExecute
		    taint TPE's pods do not tolerate does not count), the TPE node-group label,
		    allocatable CPU and memory for --segment.
		 9. Network: inbound ports on the ingress LoadBalancer, and a firewall checklist of every
		    flow (manual items); --probe dials the SMTP relay, OIDC issuer and backup endpoint.
		10. Backup storage of the values (exactly one of s3Compat, amazon, azure); --probe checks
		    that the bucket or container is reachable with the credentials.
		11. Deployment machine: API server round trip; --probe reaches the chart repository (with
		    the values' installation ID, never printed) and the configuration repository. At a site
		    without internet access, --bundle FILE replaces both with "the release bundle verifies",
		    and --probe then checks that the cluster can pull the bundle's images (probe pods whose
		    containers use each image with a command that does not exist: nothing of the image runs;
		    the pods are removed afterwards).
		12. Inter-zone network: a manual item, or --network-test runs iperf3 pods pinned one per
		    zone (removed afterwards, also on Ctrl-C) and judges < 10 ms and >= 1 Gbps.
		13. TLS: the certificate of the values or --tls-cert parses, matches its key, verifies to
		    the CA, is not expired (warns under 30 days) and covers --hostname.

		--profile selects which account profile's permissions are checked; the default is "all"
		for a user who may create PriorityClasses (a cluster administrator), else "operator".
		A check the current user may not read is skipped, not failed.

		--only and --skip take check ids ("tls.expiry"), id globs ("tls.*", "storage.*") or
		category names ("TLS", "deployment-machine"), comma-separated or repeated; only the
		selected checks run, and the exit code reflects only them. When every selected check
		works without a cluster (TLS, values, backup configuration, repositories), preflight
		needs no kubeconfig and sends no request to an API server.

		Each kind is listed once: the number of API requests does not grow with the cluster.
		Permissions are read with one rules review, which settles them all when the API server
		says it is complete (RBAC only); nor does the number grow with what is missing.
		Bad input (unreadable values, a PEM that does not parse, a malformed release) is an error
		before anything is sent to the cluster.

		Several clusters at once (the read-only checks; no --probe or --network-test):
		--context A --context B, --all-contexts or --fleet FILE (see "kubectl tpe status"); a
		verdict per installation, then the failing checks of each.

		Exit codes: 0 nothing fails (or warns, with --fail-on warn), 2 a check fails, 1 error
		(with several installations: one could not be read).`

	preflightExample = templates.Examples(`
		# Check everything the current user can be checked for, against the newest TPE release
		%[1]s preflight

		# As cluster administrator, before creating the prerequisites on AKS
		%[1]s preflight --profile admin --hosting aks --to v7.3.1

		# As the application operator, with the values you will install with
		%[1]s preflight --profile operator -n thingpark-enterprise -f values-thingpark-stack.yaml --segment l --probe

		# Check another user's permissions (needs impersonation or SubjectAccessReview rights)
		%[1]s preflight --profile operator --as tpe-operator

		# Verify a certificate before installing it (no cluster needed)
		%[1]s preflight --only tls --tls-cert tls.crt --tls-key tls.key --tls-ca ca.crt --hostname tpe.example.com

		# Check the values alone (TLS, backup storage, installation ID), without a cluster
		%[1]s preflight --only tls,backup,values -f values.yaml

		# Everything but the RBAC profiles and the firewall checklist
		%[1]s preflight --skip rbac,firewall-checklist

		# At a site without internet access: the release bundle instead of the vendor's
		# repositories, and whether the cluster can pull its images
		%[1]s preflight --bundle tpe-v7.3.1.tar.gz -f values.yaml --probe

		# The read-only checks of every cluster of the kubeconfig
		%[1]s preflight --all-contexts --to v8.0.0

		# JUnit XML for a CI pipeline, failing on warnings too
		%[1]s preflight -o junit --fail-on warn > preflight.xml`)
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

// Validate checks the flags alone (no file is read, no request is sent).
func (o *PreflightOptions) Validate() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, check.Formats...); err != nil {
		return err
	}
	if o.Profile != "" && !slices.Contains([]string{preflight.ProfileAdmin, preflight.ProfileOperator, preflight.ProfileAll}, o.Profile) {
		return fmt.Errorf("--profile must be admin, operator or all, got %q", o.Profile)
	}
	if o.Hosting != "" && !slices.Contains(prereq.Hostings, o.Hosting) {
		return fmt.Errorf("--hosting must be one of %s, got %q", strings.Join(prereq.Hostings, ", "), o.Hosting)
	}
	if o.Segment != "" && !slices.Contains([]string{"S", "M", "L", "XL", "XXL"}, strings.ToUpper(o.Segment)) {
		return fmt.Errorf("--segment must be S, M, L, XL or XXL, got %q", o.Segment)
	}
	if o.TPEVersion != "" && o.Manifest != "" {
		return fmt.Errorf("--to and --manifest both name the target release: give one")
	}
	if o.FailOn != "fail" && o.FailOn != "warn" {
		return fmt.Errorf("--fail-on must be fail or warn, got %q", o.FailOn)
	}
	if (o.TLSKey != "" || o.TLSCA != "") && o.TLSCert == "" {
		return fmt.Errorf("--tls-key and --tls-ca need --tls-cert")
	}
	if o.PriorityClassNames != prereq.SpellingDocs && o.PriorityClassNames != prereq.SpellingVendor {
		return fmt.Errorf("--priority-class-names must be docs or vendor, got %q", o.PriorityClassNames)
	}
	if o.ProbeTimeout <= 0 || o.NetworkTestTimeout <= 0 || o.PullTimeout <= 0 {
		return fmt.Errorf("--probe-timeout, --network-test-timeout and --pull-timeout must be positive")
	}
	if err := cli.ValidColor(o.Color); err != nil {
		return err
	}
	return o.selection().Validate()
}

// describeSelection is "--only tls --skip tls" as given, for messages.
func (o *PreflightOptions) describeSelection() string {
	var parts []string
	if len(o.Only) > 0 {
		parts = append(parts, "--only "+strings.Join(o.Only, ","))
	}
	if len(o.Skip) > 0 {
		parts = append(parts, "--skip "+strings.Join(o.Skip, ","))
	}
	if len(parts) == 0 {
		return "(every check)"
	}
	return strings.Join(parts, " ")
}

func (o *PreflightOptions) selection() preflight.Selection {
	return preflight.Selection{Only: o.Only, Skip: o.Skip}
}

// Complete reads the input files, resolves the release and builds the clients. Every input
// error is reported here, before any request reaches the cluster.
func (o *PreflightOptions) Complete(ctx context.Context, f cmdutil.Factory) error {
	req := manifest.Request{Name: o.TPEVersion, File: o.Manifest, Context: ctx}
	var b *bundle.Bundle
	var bundleErr, err error
	if o.Bundle != "" {
		// A bundle that does not verify is a failed check (what the site must fix), not bad input.
		if b, err = bundle.Open(o.Bundle, nil); err != nil {
			var be *bundle.Error
			if !errors.As(err, &be) {
				return fmt.Errorf("--bundle: %w", err)
			}
			bundleErr = err
		} else {
			req = b.Manifest.Request(req, o.Bundle)
		}
	}
	target, err := preflight.ResolveTarget(manifest.MustLoad(), req)
	if err != nil {
		return manifest.InputError(err, "--to", "--manifest")
	}
	cfg := preflight.Config{Profile: o.Profile, Target: target, Hosting: o.Hosting, Segment: strings.ToUpper(o.Segment),
		Hostname: o.Hostname, Strict: o.Strict, Probe: o.Probe, ProbeTimeout: o.ProbeTimeout,
		ChartRepo: o.ChartRepo, ConfigRepo: o.ConfigRepo,
		Prereq: prereq.Config{Hosting: o.Hosting, PriorityClassNames: o.PriorityClassNames,
			StorageClassName: o.StorageClassName, Provisioner: o.StorageProvisioner},
		NetworkTest: preflight.NetworkTestConfig{Enabled: o.NetworkTest, Image: o.NetworkTestImage, Timeout: o.NetworkTestTimeout, RunID: runID()},
		Select:      o.selection(),
		Bundle:      b, BundleErr: bundleErr, PullRunID: runID(), PullTimeout: o.PullTimeout,
	}
	if cfg.Values, err = values.LoadContext(ctx, o.ValuesFiles); err != nil {
		return err
	}
	// From now on the output streams hide the values' secrets wherever they appear.
	redact.Of(o.Out).Add(redact.Strings(redact.FromValues(cfg.Values))...)
	cfg.HasValues = len(o.ValuesFiles) > 0
	if err := o.completeTLS(ctx, &cfg); err != nil {
		return err
	}
	if cfg.Hostname == "" && cfg.HasValues {
		cfg.Hostname = cfg.Values.DNSHostname()
	}
	if o.Fleet.Active() {
		// Several installations: runFleet connects to each.
		o.cfg = cfg
		return nil
	}
	if !preflight.NeedsCluster(cfg) {
		// --only tls (or values, backup): judged on this machine, no kubeconfig needed.
		o.cfg = cfg
		return nil
	}

	if o.clients, err = clientsFor(ctx, f, o.ErrOut); err != nil {
		return err
	}
	cfg.Namespace = o.clients.TPENamespace()
	if cfg.Reviewer, cfg.User, err = o.reviewer(ctx, cfg.Namespace); err != nil {
		return err
	}
	if cfg.Profile == "" {
		cfg.Profile = preflight.DetectProfile(ctx, cfg.Reviewer)
		fmt.Fprintf(o.ErrOut, "Checking profile %q (set --profile to choose)\n", cfg.Profile)
	}
	o.cfg = cfg
	return nil
}

// Run runs the checks and writes the report.
func (o *PreflightOptions) Run(ctx context.Context) error {
	start := time.Now()
	var kc kubernetes.Interface
	if o.clients != nil {
		kc = o.clients.Kube
	}
	rep, err := preflight.Run(ctx, kc, o.cfg)
	if err != nil {
		return err
	}
	if o.clients != nil {
		klog.V(1).Infof("preflight: %s in %s", o.clients.Counter, time.Since(start).Round(time.Millisecond))
	}
	if rep.Summary.Total > 0 || o.format != cli.FormatTable {
		if err := check.Write(o.Out, o.format, rep, cli.UseColor(o.Out, o.Color)); err != nil {
			return err
		}
	}
	if rep.Summary.Total == rep.Summary.Skip {
		// A selection that runs nothing (every check skipped, or none selected) verified
		// nothing: never "OK" (exit 2, docs/output-schema.md).
		return cli.Failed(fmt.Errorf("no check ran: the selection %s leaves none that can run with the given inputs (%d selected, all skipped), so nothing was verified; "+
			"the TLS checks need a certificate (--tls-cert or global.ingress.tls of -f), the values and backup checks need -f", o.describeSelection(), rep.Summary.Total))
	}
	threshold := check.Fail
	if o.FailOn == "warn" {
		threshold = check.Warn
	}
	if rep.FailsOn(threshold) {
		return cli.Silent
	}
	return nil
}

func runID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// readFlagFile reads the file a flag names as an input of kind k; errors name the flag.
func readFlagFile(ctx context.Context, flag string, k input.Kind, path string) ([]byte, error) {
	data, err := input.ReadFile(ctx, k, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return data, nil
}
