package preflight

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/netprobe"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

func rbacPerm(verb, group, resource string) rbac.Permission {
	return rbac.Permission{Verb: verb, Group: group, Resource: resource}
}

// checkRBAC is checks 6 and 7, as the profile asks.
func (r *Runner) checkRBAC(ctx context.Context) []check.Check {
	var out []check.Check
	cfg := rbac.CheckConfig{Category: CatRBAC, User: r.Cfg.User}
	if r.Cfg.Profile == ProfileAdmin || r.Cfg.Profile == ProfileAll {
		out = append(out, rbac.ProfileCheck(ctx, r.Cfg.Reviewer, rbac.AdminProfile(), cfg))
	}
	if r.Cfg.Profile == ProfileOperator || r.Cfg.Profile == ProfileAll {
		out = append(out, rbac.OperatorCheck(ctx, r.Kube, r.Cfg.Reviewer,
			rbac.OperatorConfig{CheckConfig: cfg, Namespace: r.Cfg.Namespace, Extra: r.dataResources()}))
	}
	return out
}

// dataResources lists the resources the cluster serves in the operator's custom resource groups
// (one discovery request per served group, at most two), so that a newer operator's kinds are
// checked too.
func (r *Runner) dataResources() map[string][]string {
	extra := map[string][]string{}
	for g := range rbac.DataGroups {
		gv, ok := r.preferred[g]
		if !ok || gv == "" {
			continue
		}
		list, err := r.Kube.Discovery().ServerResourcesForGroupVersion(gv)
		if err != nil {
			continue // the embedded list still applies
		}
		for _, res := range list.APIResources {
			extra[g] = append(extra[g], res.Name)
		}
	}
	return extra
}

// Flow is one network flow of the TPE cluster prerequisites.
type Flow struct {
	ID        string
	Direction string // inbound | outbound
	Protocol  string
	Ports     []int
	Purpose   string
}

// InboundFlows reach the cluster through the ingress controller's LoadBalancer.
var InboundFlows = []Flow{
	{"iec104", "inbound", "TCP", []int{3001, 3101}, "base stations → primary and secondary network server (IEC-104 over TLS)"},
	{"sftp", "inbound", "TCP", []int{3002}, "base stations → software/RF region upgrade download, radio scan upload (SSH(SFTP)+TLS)"},
	{"reverse-ssh", "inbound", "TCP", []int{2022}, "base stations → remote control (reverse SSH v2)"},
	{"https", "inbound", "TCP", []int{443}, "users and application servers → GUI, DX/BSS APIs, applicative downlink (HTTPS, TLS 1.2)"},
}

// OutboundFlows leave the cluster (the TPE cluster prerequisites, "Outbound flows from the
// kubernetes cluster").
var OutboundFlows = []Flow{
	{"mqtt", "outbound", "TCP", []int{8883, 9883}, "connectors → AWS IoT, Azure IoT Hub, IBM Watson, MQTT/ThingsBoard, Yandex (MQTT+TLS, MQTT+WS+TLS)"},
	{"amqp", "outbound", "TCP", []int{5671}, "connectors → Azure IoT Hub / Event Hubs, MQTT/ThingsBoard (secure AMQP)"},
	{"https", "outbound", "TCP", []int{443}, "Actility repositories (catalogs, base station images), HTTP connectors, HERE, Cumulocity, SAP, Azure IoT Hub (HTTPS, TLS 1.2)"},
	{"smtp", "outbound", "TCP", []int{25, 587, 465}, "transactional e-mail: invitations, lost passwords, alarm notifications (SMTP, optional)"},
	{"snmp", "outbound", "UDP", []int{162}, "alarm notifications (SNMP v2 traps, optional)"},
	{"oidc", "outbound", "TCP", []int{443}, "OpenID Connect identity server for delegated authentication (HTTPS, optional)"},
}

// BaseStationServices are what base stations need that TPE does not provide.
var BaseStationServices = []Flow{
	{"bs-dns", "base stations", "UDP", []int{53}, "base stations to reach a DNS server, which TPE does not provide"},
	{"bs-ntp", "base stations", "UDP", []int{123}, "base stations to reach an NTP server, which TPE does not provide"},
}

func (f Flow) ports() string {
	var ps []string
	for _, p := range f.Ports {
		ps = append(ps, fmt.Sprintf("%s/%d", f.Protocol, p))
	}
	return strings.Join(ps, ", ")
}

func (f Flow) manual() check.Check {
	return check.Check{ID: "network." + strings.ReplaceAll(f.Direction, " ", "-") + "." + f.ID, Category: CatFirewall, Status: check.Manual,
		Message: f.message()}
}

func (f Flow) message() string {
	if f.Direction == "base stations" {
		return fmt.Sprintf("allow %s (%s)", f.Purpose, f.ports())
	}
	return fmt.Sprintf("open %s %s: %s", f.Direction, f.ports(), f.Purpose)
}

// IngressServiceName is the LoadBalancer Service of chart 3's ingress-nginx (release tpe-controllers).
const IngressServiceName = "tpe-controllers-ingress-nginx-controller"

// checkNetwork is check 9.
func (r *Runner) checkNetwork(ctx context.Context) []check.Check {
	var out []check.Check
	svcs, err := r.Kube.CoreV1().Services(r.Cfg.Namespace).List(ctx, metav1.ListOptions{})
	var lb *corev1.Service
	if err == nil {
		for i, s := range svcs.Items {
			if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
				continue
			}
			if s.Name == IngressServiceName || s.Labels["app.kubernetes.io/name"] == "ingress-nginx" {
				lb = &svcs.Items[i]
				break
			}
		}
	} else if !isNotFoundOrForbidden(err) {
		out = append(out, listProblem("network.ingress-service", CatNetwork, "Services in "+r.Cfg.Namespace, err))
	}
	if lb != nil {
		open := map[int32]bool{}
		for _, p := range lb.Spec.Ports {
			if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
				open[p.Port] = true
			}
		}
		addr := "pending"
		if ing := lb.Status.LoadBalancer.Ingress; len(ing) > 0 {
			addr = ing[0].IP + ing[0].Hostname
		}
		for _, f := range InboundFlows {
			c := check.Check{ID: "network.inbound." + f.ID, Category: CatNetwork}
			var miss []string
			for _, p := range f.Ports {
				if !open[int32(p)] {
					miss = append(miss, fmt.Sprint(p))
				}
			}
			if len(miss) > 0 {
				c.Status = check.Fail
				c.Message = fmt.Sprintf("Service %s/%s (LoadBalancer %s) does not expose TCP port(s) %s: %s", lb.Namespace, lb.Name, addr, strings.Join(miss, ", "), f.Purpose)
				c.Remediation = "add the ports to ingress-nginx.tcp in the values of tpe-controllers (2022, 3001, 3101, 3002) and upgrade that release"
			} else {
				c.Status = check.Pass
				c.Message = fmt.Sprintf("Service %s/%s (LoadBalancer %s) exposes %s: %s", lb.Namespace, lb.Name, addr, f.ports(), f.Purpose)
			}
			out = append(out, c)
		}
	} else {
		for _, f := range InboundFlows {
			c := f.manual()
			c.Message += fmt.Sprintf(" (the ingress LoadBalancer Service %s does not exist yet in %s)", IngressServiceName, r.Cfg.Namespace)
			out = append(out, c)
		}
	}
	for _, f := range OutboundFlows {
		out = append(out, f.manual())
	}
	for _, f := range BaseStationServices {
		out = append(out, f.manual())
	}
	if r.Cfg.Probe && r.Cfg.HasValues {
		out = append(out, r.probeValuesEndpoints(ctx)...)
	}
	return out
}

func isNotFoundOrForbidden(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsNotFound(err)
}

// probeValuesEndpoints dials the SMTP relay, the OIDC issuer and the backup endpoint of the values.
func (r *Runner) probeValuesEndpoints(ctx context.Context) []check.Check {
	v := r.Cfg.Values
	type target struct{ id, what, addr, defPort string }
	var ts []target
	if s := v.String(values.KeySMTPServer); s != "" {
		port := v.String(values.KeySMTPPort)
		addr := s
		if port != "" && !strings.Contains(s, ":") {
			addr = s + ":" + port
		}
		ts = append(ts, target{"smtp", "SMTP relay", addr, "25"})
	}
	if s := v.String(values.KeyOIDCIssuer); s != "" {
		ts = append(ts, target{"oidc", "OpenID Connect issuer", s, "443"})
	}
	if b, ok := values.BackupFromValues(v); ok && b.Kind != "" {
		switch b.Kind {
		case values.BackupS3Compat:
			if b.URL != "" {
				ts = append(ts, target{"backup", "backup endpoint", b.URL, "443"})
			}
		case values.BackupAmazon:
			if b.Region != "" {
				ts = append(ts, target{"backup", "backup endpoint", "s3." + b.Region + ".amazonaws.com", "443"})
			}
		case values.BackupAzure:
			cloud, ok := netprobe.AzureClouds[b.CloudName]
			if b.CloudName == "" {
				cloud, ok = netprobe.AzureClouds["AzurePublicCloud"], true
			}
			if ok && b.StorageAccount != "" {
				ts = append(ts, target{"backup", "backup endpoint", b.StorageAccount + "." + cloud.BlobSuffix, "443"})
			}
		}
	}
	var out []check.Check
	for _, t := range ts {
		c := check.Check{ID: "network.probe." + t.id, Category: CatNetwork}
		addr, err := netprobe.HostPort(t.addr, t.defPort)
		if err != nil {
			c.Status, c.Message = check.Fail, fmt.Sprintf("%s: %v", t.what, err)
			out = append(out, c)
			continue
		}
		o := netprobe.TCP(ctx, r.Cfg.Dialer, addr, r.Cfg.ProbeTimeout)
		c.Message = t.what + ": " + o.Message + " (from this machine; the cluster's egress may differ)"
		if o.OK {
			c.Status = check.Pass
		} else {
			c.Status = check.Warn
			c.Remediation = "open the flow to " + addr + " in the firewall, or fix the address in the values"
		}
		out = append(out, c)
	}
	return out
}

// checkBackup is check 10.
func (r *Runner) checkBackup(ctx context.Context) []check.Check {
	if !r.Cfg.HasValues {
		return []check.Check{{ID: "backup.config", Category: CatBackup, Status: check.Skip,
			Message: "no values given ({flag:values}): the backup storage (mandatory for upgrades) was not checked"}}
	}
	c := values.CheckBackup(r.Cfg.Values)
	out := []check.Check{c}
	if c.Status != check.Pass {
		return out
	}
	b, _ := values.BackupFromValues(r.Cfg.Values)
	reach := check.Check{ID: "backup.reachable", Category: CatBackup}
	if !r.Cfg.Probe {
		reach.Status, reach.Message = check.Manual, "run with {flag:probe} to check that "+b.Describe()+" is reachable with the configured credentials"
		return append(out, reach)
	}
	var o netprobe.Outcome
	skipped := false
	if b.Kind == values.BackupAzure {
		o = netprobe.AzureContainer(ctx, b, netprobe.AzureTarget{HTTPClient: r.Cfg.HTTPClient}, r.Cfg.ProbeTimeout)
	} else {
		o, skipped = netprobe.S3Bucket(ctx, b, "", false, r.Cfg.ProbeTimeout)
	}
	switch {
	case skipped:
		reach.Status = check.Skip
	case o.OK:
		reach.Status = check.Pass
	default:
		reach.Status = check.Fail
		reach.Remediation = "check the bucket/container name, the credentials and the firewall between this machine and the storage"
	}
	reach.Message = o.Message
	return append(out, reach)
}

// Default repositories: the chart repository of the TPE upgrade procedure, and where the vendor's
// VERSIONS files are read (the release tag of actility/thingpark-enterprise-kubernetes).
const (
	DefaultChartRepo  = "https://repository.thingpark.com/charts"
	DefaultConfigRepo = "https://raw.githubusercontent.com/actility/thingpark-enterprise-kubernetes"
)

// checkAPIServer is the first part of check 11: the round trip measured by checkVersion.
func (r *Runner) checkAPIServer(context.Context) []check.Check {
	if r.api == (apiAnswer{}) {
		r.checkVersion() // --only machine.apiserver: measure it now
	}
	api := check.Check{ID: "machine.apiserver", Category: CatMachine}
	if r.api.err != nil {
		api.Status, api.Message = check.Fail, fmt.Sprintf("the API server does not answer: %v", r.api.err)
	} else {
		api.Status, api.Message = check.Pass, fmt.Sprintf("the API server answers (%s) in %s", r.api.ver, r.api.rtt.Round(100_000))
	}
	return []check.Check{api}
}

// checkRepositories is the rest of check 11: the chart and configuration repositories, probed
// from this machine (no request to the cluster).
func (r *Runner) checkRepositories(ctx context.Context) []check.Check {
	var out []check.Check
	chart := check.Check{ID: "machine.chart-repository", Category: CatMachine}
	conf := check.Check{ID: "machine.config-repository", Category: CatMachine}
	if r.Cfg.Bundle != nil || r.Cfg.BundleErr != nil {
		return []check.Check{r.checkBundle()}
	}
	chartRepo, confRepo := strings.TrimSuffix(r.Cfg.ChartRepo, "/"), strings.TrimSuffix(r.Cfg.ConfigRepo, "/")
	if chartRepo == "" {
		chartRepo = DefaultChartRepo
	}
	if confRepo == "" {
		confRepo = DefaultConfigRepo
	}
	if !r.Cfg.Probe {
		chart.Status, chart.Message = check.Manual, "run with {flag:probe} to check that "+chartRepo+" is reachable from this machine"
		conf.Status, conf.Message = check.Manual, "run with {flag:probe} to check that "+confRepo+" (release manifests) is reachable from this machine"
		return append(out, chart, conf)
	}
	id := ""
	if r.Cfg.HasValues {
		id = r.Cfg.Values.InstallationID()
	}
	o := netprobe.HTTPGet(ctx, r.Cfg.HTTPClient, chartRepo+"/index.yaml", id, id, r.Cfg.ProbeTimeout)
	switch {
	case o.OK:
		chart.Status = check.Pass
		chart.Message = o.Message
		if id != "" {
			chart.Message += " with the installation ID of the values"
		}
	case id == "" && strings.Contains(o.Message, "credentials were refused"):
		chart.Status = check.Warn
		chart.Message = o.Message + "; give {flag:values} with global.installationId to check the installation ID too"
	default:
		chart.Status = check.Fail
		chart.Message = o.Message
		chart.Remediation = "open HTTPS to the chart repository from this machine, and check global.installationId (it is both user and password)"
	}
	out = append(out, chart)
	rel := r.Cfg.Target.Release
	ref := rel.ConfigRef()
	if !r.Cfg.Target.Known || ref == "" {
		conf.Status = check.Skip
		conf.Message = fmt.Sprintf("release %s has no tag or commit in the configuration repository; not probed", rel.Name)
		return append(out, conf)
	}
	// An untagged release (7.3.0, 8.0.0) is read at its commit, as images and bundle create do.
	co := netprobe.HTTPGet(ctx, r.Cfg.HTTPClient, confRepo+"/"+ref+"/VERSIONS", "", "", r.Cfg.ProbeTimeout)
	conf.Message = co.Message
	if co.OK {
		conf.Status = check.Pass
	} else {
		conf.Status = check.Fail
		conf.Remediation = "open HTTPS to " + confRepo + " from this machine (or mirror the release manifests and pass {flag:config-repo})"
	}
	return append(out, conf)
}

// checkBundle replaces the repository checks when the site installs from a release bundle: the
// deployment machine needs the bundle, not the vendor's repositories.
func (r *Runner) checkBundle() check.Check {
	c := check.Check{ID: "machine.bundle", Category: CatMachine}
	if r.Cfg.BundleErr != nil {
		c.Status, c.Message = check.Fail, r.Cfg.BundleErr.Error()
		c.Remediation = "build the bundle again on a connected machine (`{cmd:bundle-create}`) and carry it again"
		return c
	}
	b := r.Cfg.Bundle
	m := b.Manifest
	c.Status = check.Pass
	c.Message = fmt.Sprintf("bundle %s verifies (%s, %s): releases %s, %d images; the vendor's repositories are not needed",
		b.Path, bundle.Size(b.Size), b.Digest, strings.Join(b.ReleaseNames(), ", "), len(m.Images()))
	if rel := r.Cfg.Target.Release; r.Cfg.Target.Known {
		if lacks := b.Lacks(rel); len(lacks) > 0 {
			c.Status = check.Fail
			c.Message = fmt.Sprintf("bundle %s does not hold the target %s: it lacks %s", b.Path, rel.Name, strings.Join(lacks, ", "))
			c.Remediation = "build a bundle for " + rel.Name + " (`{cmd:bundle-create} {flag:to} " + rel.Name + "`)"
		}
	}
	return c
}

// checkImages checks, with --bundle and --probe, that the cluster can pull the bundle's images.
func (r *Runner) checkImages(ctx context.Context) []check.Check {
	b := r.Cfg.Bundle
	if b == nil {
		return nil
	}
	if !r.Cfg.Probe {
		return []check.Check{{ID: "images.pull", Category: CatImages, Status: check.Manual,
			Message: fmt.Sprintf("run with {flag:probe} to check that the cluster can pull the %d images of the bundle", len(b.Manifest.Images()))}}
	}
	var secrets []string
	if r.Cfg.HasValues {
		secrets = r.Cfg.Values.ImagePullSecrets()
	}
	c, err := netprobe.PullImages(ctx, r.Kube, netprobe.PullTest{Namespace: r.Cfg.Namespace, Images: b.Manifest.Images(),
		PullSecrets: secrets, RunID: r.Cfg.PullRunID, Timeout: r.Cfg.PullTimeout})
	if err != nil {
		return []check.Check{{ID: "images.pull", Category: CatImages, Status: check.Fail, Message: err.Error(),
			Remediation: "the pull test needs create, list and deletecollection on pods in " + r.Cfg.Namespace}}
	}
	c.Category = CatImages
	return []check.Check{c}
}

// checkInterZone is check 12.
func (r *Runner) checkInterZone(ctx context.Context) []check.Check {
	nt := r.Cfg.NetworkTest
	if !nt.Enabled {
		return []check.Check{{ID: "network.inter-zone", Category: CatInterZone, Status: check.Manual,
			Message: "verify < 10 ms latency and ≥ 1 Gbps bandwidth between the nodes of different zones (a TPE cluster prerequisite), or run with {flag:network-test}"}}
	}
	image := nt.Image
	if image == "" {
		image = netprobe.DefaultNetworkTestImage
	}
	c, err := netprobe.Run(ctx, r.Kube, netprobe.NetworkTest{Namespace: r.Cfg.Namespace, Image: image, Zones: r.zones,
		RunID: nt.RunID, Timeout: nt.Timeout})
	if err != nil {
		return []check.Check{{ID: "network.inter-zone", Category: CatInterZone, Status: check.Fail, Message: err.Error(),
			Remediation: "the test needs create/delete on pods and get on pods/log in " + r.Cfg.Namespace}}
	}
	return []check.Check{c}
}

// checkTLS is check 13. A PEM that does not parse is an error (bad input).
func (r *Runner) checkTLS() ([]check.Check, error) {
	var in values.TLSInput
	switch {
	case r.Cfg.TLS != nil:
		in = *r.Cfg.TLS
	case r.Cfg.HasValues:
		var ok bool
		if in, ok = values.TLSFromValues(r.Cfg.Values); !ok {
			issuer := r.Cfg.Values.String(values.KeyTLS + ".issuer")
			if issuer == "" {
				issuer = "self-signed (default)"
			}
			return []check.Check{{ID: "tls", Category: CatTLS, Status: check.Skip,
				Message: "the values give no certificate (issuer " + issuer + "): nothing to verify"}}, nil
		}
	default:
		return []check.Check{{ID: "tls", Category: CatTLS, Status: check.Skip,
			Message: "no certificate given ({flag:tls-cert} or global.ingress.tls.certificate in {flag:values} values)"}}, nil
	}
	if r.Cfg.Hostname != "" {
		in.Hostname = r.Cfg.Hostname
	}
	in.Now = r.Cfg.Now()
	return values.CheckTLS(in)
}
