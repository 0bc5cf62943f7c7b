package kubectltpe

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/preflight"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// Complete reads the input files, resolves the release and builds the clients. Every input
// error is reported here, before any request reaches the cluster.
func (o *PreflightOptions) Complete(ctx context.Context, f cmdutil.Factory) error {
	req := manifest.Request{Name: o.TPEVersion, File: o.Manifest, Context: ctx}
	var b *bundle.Bundle
	var bundleErr, err error
	if o.Bundle != "" {
		if b, bundleErr, err = preflight.OpenBundle(o.Bundle); err != nil {
			return fmt.Errorf("--bundle: %w", err)
		}
		if b != nil {
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
		NetworkTest: preflight.NetworkTestConfig{Enabled: o.NetworkTest, Image: o.NetworkTestImage, Timeout: o.NetworkTestTimeout, RunID: preflight.NewRunID()},
		Select:      o.selection(),
		Bundle:      b, BundleErr: bundleErr, PullRunID: preflight.NewRunID(), PullTimeout: o.PullTimeout,
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
