// Package preflight turns the TPE cluster prerequisites (the vendor's page) into named checks:
// Kubernetes version, PriorityClasses, StorageClasses, IngressClass, CRDs, the admin and operator
// RBAC profiles, nodes and zones, network flows, backup storage, the deployment machine, the
// inter-zone network and the TLS certificate. Every check reports through pkg/check.
//
// Cost is bounded: each kind is listed once and nothing is fetched per object, so the number of
// API requests does not grow with the cluster (see TestRequestsAreBounded).
package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/netprobe"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// Profiles.
const (
	ProfileAdmin    = rbac.ProfileAdmin
	ProfileOperator = rbac.ProfileOperator
	ProfileAll      = "all"
)

// Categories, in report order.
const (
	CatKubernetes = prereq.CategoryKubernetes
	CatPriority   = prereq.CategoryPriority
	CatStorage    = prereq.CategoryStorage
	CatIngress    = "Ingress"
	CatCRDs       = "CRDs"
	CatRBAC       = "RBAC"
	CatNodes      = "Nodes"
	CatNetwork    = "Network"
	CatFirewall   = "Firewall checklist"
	CatBackup     = values.CategoryBackup
	CatMachine    = "Deployment machine"
	CatInterZone  = "Inter-zone network"
	CatImages     = "Images"
	CatTLS        = values.CategoryTLS
	CatValues     = "Values"
)

// Config is what one preflight run checks.
type Config struct {
	// Profile is admin, operator or all: which account profile's permissions are verified.
	Profile string
	Target  Target
	// Hosting is aks, eks, gke, other or "" (unknown: no CSI driver expectation).
	Hosting string
	// Segment is S, M, L, XL or XXL ("" = not judged).
	Segment string
	// Values are the merged -f files; HasValues is false when none was given.
	Values    values.Values
	HasValues bool
	// Hostname is the public TPE host name (--hostname, else global.dnsHostname).
	Hostname  string
	Namespace string
	// Strict turns "newer than validated" warnings into failures.
	Strict bool
	// Prereq names the objects `prereqs apply` would create (spelling, class names).
	Prereq prereq.Config
	// TLS is the certificate of --tls-cert/--tls-key/--tls-ca, if given (else the values').
	TLS *values.TLSInput
	// Probe enables the network probes from this machine.
	Probe        bool
	ProbeTimeout time.Duration
	ChartRepo    string
	ConfigRepo   string
	Dialer       netprobe.Dialer
	HTTPClient   *http.Client
	// NetworkTest runs the inter-zone probe pods.
	NetworkTest NetworkTestConfig
	// Bundle is --bundle: the release bundle the site installs from, in place of the vendor's
	// repositories (nil: none). BundleErr is why it did not verify (it is then nil).
	Bundle    *bundle.Bundle
	BundleErr error
	// PullRunID labels the image pull test pods of --bundle --probe; PullTimeout bounds the test.
	PullRunID   string
	PullTimeout time.Duration
	// Reviewer answers the RBAC questions; User names the subject in remediations.
	Reviewer rbac.Reviewer
	User     string
	// Now is the reference time (tests).
	Now func() time.Time
	// Select picks the checks that run (--only, --skip); empty runs them all.
	Select Selection
}

// NetworkTestConfig configures --network-test.
type NetworkTestConfig struct {
	Enabled bool
	Image   string
	Timeout time.Duration
	RunID   string
}

// Runner runs the checks against one cluster.
type Runner struct {
	Kube kubernetes.Interface
	Cfg  Config

	// facts gathered once and shared between checks
	zones       []string
	nodeCount   int
	sawNodes    bool
	storageUsed []string
	api         apiAnswer
	// preferred maps served API groups to their preferred group/version (from discovery).
	preferred map[string]string
}

// Run runs the checks cfg.Select keeps and returns the report. It returns an error only for bad
// input (a PEM that does not parse); API failures become failed or skipped checks. kube may be
// nil when NeedsCluster(cfg) is false.
func Run(ctx context.Context, kube kubernetes.Interface, cfg Config) (*check.Report, error) {
	r := &Runner{Kube: kube, Cfg: cfg}
	if r.Cfg.Now == nil {
		r.Cfg.Now = time.Now
	}
	if r.Cfg.ProbeTimeout <= 0 {
		r.Cfg.ProbeTimeout = netprobe.DefaultTimeout
	}
	if r.Cfg.Reviewer == nil && kube != nil {
		r.Cfg.Reviewer = rbac.SelfReviewer{Client: kube}
	}
	// TLS first: a PEM that does not parse is bad input and must stop before anything else.
	tlsChecks, err := r.checkTLS()
	if err != nil {
		return nil, err
	}
	rep := check.NewReport("Preflight")
	for _, g := range groups() {
		if cfg.Select.runs(g) {
			rep.Add(g.run(r, ctx)...)
		}
	}
	rep.Add(tlsChecks...)
	if cfg.HasValues {
		rep.Add(values.CheckInstallationID(cfg.Values))
	}
	if !cfg.Select.Empty() {
		kept := check.NewReport(rep.Kind)
		for _, c := range rep.Checks {
			if cfg.Select.Keeps(c) {
				kept.Add(c)
			}
		}
		rep = kept
	}
	rep.Note(cfg.Target.Note)
	// Order the report by category as documented, whatever order the checks ran in.
	sortByCategory(rep)
	return rep, nil
}

var categoryOrder = []string{CatKubernetes, CatPriority, CatStorage, CatIngress, CatCRDs, CatRBAC, CatNodes,
	CatNetwork, CatFirewall, CatBackup, CatMachine, CatInterZone, CatTLS, CatValues}

func sortByCategory(rep *check.Report) {
	idx := map[string]int{}
	for i, c := range categoryOrder {
		idx[c] = i
	}
	out := make([]check.Check, 0, len(rep.Checks))
	for _, cat := range categoryOrder {
		for _, c := range rep.Checks {
			if c.Category == cat {
				out = append(out, c)
			}
		}
	}
	for _, c := range rep.Checks {
		if _, ok := idx[c.Category]; !ok {
			out = append(out, c)
		}
	}
	rep.Checks = out
}

// listProblem turns a list error into a check: forbidden → skip (the profile may not read it),
// anything else → fail.
func listProblem(id, cat, what string, err error) check.Check {
	if apierrors.IsForbidden(err) {
		return check.Check{ID: id, Category: cat, Status: check.Skip,
			Message: fmt.Sprintf("not allowed to list %s: run preflight with the admin profile's kubeconfig to check them", what)}
	}
	return check.Check{ID: id, Category: cat, Status: check.Fail, Message: fmt.Sprintf("cannot list %s: %v", what, shortErr(err)),
		Remediation: "check that the API server is reachable and healthy"}
}

func shortErr(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) && se.Status().Message != "" {
		return se.Status().Message
	}
	return err.Error()
}

func names(list []string) string { return strings.Join(list, ", ") }
