//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/e2e/framework"
)

// Shared by the evidence tests of issue 8 (bench_test.go, faults_test.go, secrets_test.go): a
// fixture installation of the four TPE charts in the operator's namespace, driven by helm tpe, with
// values that hold every kind of secret.

// evStorageClass is the StorageClass the fixture StatefulSets' PVCs use (the fake provisioner binds
// nothing; Immediate binding keeps the scheduler from waiting for a volume).
const evStorageClass = "thingpark-csi-evidence"

const evPrereqs = `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: thingpark-csi-evidence, labels: {e2e-evidence: "true"}}
provisioner: example.com/fake
volumeBindingMode: Immediate
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-datapath, labels: {e2e-evidence: "true"}}
value: 1000000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-data, labels: {e2e-evidence: "true"}}
value: 999800
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: thingpark-others, labels: {e2e-evidence: "true"}}
value: 999500
`

// evSecrets are the secret values the evidence tests put in the values files; none may ever
// appear in an output, a support bundle, the progress ConfigMap or the audit log.
type evSecrets struct {
	InstallationID             string
	AWSAccessKey, AWSSecretKey string
	AzureClientSecret          string
	TLSKeyPEM, TLSCertPEM      string
	TLSCAPEM                   string
}

// list returns the secret strings to look for: the whole values and, for the private key, each
// of its base64 lines.
func (s evSecrets) list() []string {
	out := []string{s.InstallationID, s.AWSAccessKey, s.AWSSecretKey, s.AzureClientSecret}
	for _, l := range strings.Split(s.TLSKeyPEM, "\n") {
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

// find returns a description of the first secret found in text, or "".
func (s evSecrets) find(text string) string {
	for i, sec := range s.list() {
		if sec != "" && strings.Contains(text, sec) {
			names := []string{"installation ID", "amazon accessKey", "amazon secretAccessKey", "azure clientSecret"}
			if i < len(names) {
				return names[i]
			}
			return "a line of the TLS private key"
		}
	}
	return ""
}

func newEvSecrets(t testing.TB) evSecrets {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "tpe.example.com"},
		DNSNames: []string{"tpe.example.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e9)
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return evSecrets{
		InstallationID:    env.InstallationID,
		AWSAccessKey:      "AKIAEVIDENCE" + suffix,
		AWSSecretKey:      "aws-secret-access-key-evidence-" + suffix,
		AzureClientSecret: "azure-client-secret-evidence-" + suffix,
		TLSKeyPEM:         string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})),
		TLSCertPEM:        cert,
		TLSCAPEM:          cert,
	}
}

// evValues is the values file of the fixture installation: installation ID, Amazon backup keys,
// an external TLS certificate with its private key, and the fixture StorageClass.
func evValues(s evSecrets, extra string) string {
	indent := func(p string) string {
		return "        " + strings.ReplaceAll(strings.TrimSpace(p), "\n", "\n        ")
	}
	return fmt.Sprintf(`global:
  installationId: %q
  dnsHostname: tpe.example.com
  lora: {ismBand: [eu868], netId: "000001"}
  ingress:
    tls:
      issuer: external
      certificate: |
%s
      key: |
%s
      caCertificate: |
%s
  backup:
    schedule: "30 2 * * *"
    amazon: {bucket: tpe-backup-evidence, region: eu-west-3, accessKey: %q, secretAccessKey: %q}
kafka-cluster: {kafka: {persistence: {storageClass: %[7]s}}}
mongo-replicaset: {persistence: {storageClass: %[7]s}}
zookeeper: {persistence: {storageClass: %[7]s}}
mariadb-galera: {persistence: {storageClass: %[7]s}}
lrc: {persistence: {storageClass: %[7]s}}
%[8]s`, s.InstallationID, indent(s.TLSCertPEM), indent(s.TLSKeyPEM), indent(s.TLSCAPEM), s.AWSAccessKey, s.AWSSecretKey, evStorageClass, extra)
}

// evAzureValues is a values file with an Azure backup block (for preflight and plan).
func evAzureValues(s evSecrets) string {
	return fmt.Sprintf(`global:
  installationId: %q
  dnsHostname: tpe.example.com
  backup:
    azure: {resourceGroup: rg-tpe, storageAccount: tpebackup, blobContainer: backups, cloudName: AzurePublicCloud,
      subscriptionId: 00000000-0000-0000-0000-000000000001, tenantId: 00000000-0000-0000-0000-000000000002,
      clientId: 00000000-0000-0000-0000-000000000003, clientSecret: %q}
`, s.InstallationID, s.AzureClientSecret)
}

var evReleases = []string{"tpe-data-controllers", "tpe-data", "tpe-controllers", "tpe"}

// evFixture is a TPE fixture installation driven by helm tpe in env.Namespace.
type evFixture struct {
	Secrets evSecrets
	Values  string // values file path
	NS      string
	outputs []string // every stdout/stderr of the commands run through it
}

// newEvFixture creates the cluster-admin prerequisites (StorageClass, PriorityClasses, the data
// operators' CRDs), adds the chart repository with helm tpe, and removes everything (releases,
// PVCs, progress ConfigMap, prerequisites, fake controller state) when the test ends.
func newEvFixture(t *testing.T) *evFixture {
	t.Helper()
	f := &evFixture{Secrets: newEvSecrets(t), NS: env.Namespace}
	f.Values = writeFile(t, "values.yaml", evValues(f.Secrets, ""))
	adminApply(t, evPrereqs+dataOperatorCRDs())
	t.Cleanup(func() {
		f.uninstall(t)
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "delete", "storageclass,priorityclass", "-l", "e2e-evidence=true", "--ignore-not-found")
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "delete", "crd", "-l", "e2e-helm-tpe=true", "--ignore-not-found")
		env.ResetController(t)
	})
	f.mustHelmTPE(t, "", nil, "repo", "add", "--repo-url", env.RepoURL, "--installation-id-file", env.InstallationIDFile, "--to", "v7.3.1")
	return f
}

// helmTPE runs helm tpe as the operator (kubeconfig "" = operator) in the fixture namespace.
func (f *evFixture) helmTPE(t testing.TB, kubeconfig string, extraEnv []string, args ...string) framework.Result {
	t.Helper()
	if kubeconfig == "" {
		kubeconfig = env.OperatorKubeconfig
	}
	r := env.HelmTPE(t, kubeconfig, append([]string{"HELM_NAMESPACE=" + f.NS}, extraEnv...), args...)
	f.outputs = append(f.outputs, r.Stdout, r.Stderr)
	return r
}

func (f *evFixture) mustHelmTPE(t testing.TB, kubeconfig string, extraEnv []string, args ...string) framework.Result {
	t.Helper()
	r := f.helmTPE(t, kubeconfig, extraEnv, args...)
	if r.Code != 0 {
		t.Fatalf("helm tpe %s: %s", strings.Join(args, " "), redact(r.String()))
	}
	return r
}

// kubectlTPE runs kubectl tpe as the operator in the fixture namespace.
func (f *evFixture) kubectlTPE(t testing.TB, kubeconfig string, args ...string) framework.Result {
	t.Helper()
	if kubeconfig == "" {
		kubeconfig = env.OperatorKubeconfig
	}
	r := env.KubectlTPE(t, kubeconfig, append([]string{"-n", f.NS}, args...)...)
	f.outputs = append(f.outputs, r.Stdout, r.Stderr)
	return r
}

// noLeaks fails when a secret of the values appears in an output of the commands run so far.
func (f *evFixture) noLeaks(t testing.TB) {
	t.Helper()
	for _, out := range f.outputs {
		if s := f.Secrets.find(out); s != "" {
			t.Errorf("the %s appears in an output", s)
		}
	}
}

// install installs release tag with helm tpe (fresh install, no backup to take).
func (f *evFixture) install(t testing.TB, tag string) {
	t.Helper()
	f.mustHelmTPE(t, "", nil, "install", "--to", tag, "-f", f.Values, "--yes", "--timeout", "4m")
}

// uninstall removes the four releases, their PVCs and the progress ConfigMap.
func (f *evFixture) uninstall(t testing.TB) {
	t.Helper()
	for i := len(evReleases) - 1; i >= 0; i-- {
		env.HelmCLI(t, env.AdminKubeconfig, "uninstall", "-n", f.NS, evReleases[i], "--wait", "--timeout", "3m", "--ignore-not-found")
	}
	_, _ = env.KubectlOK(t, env.AdminKubeconfig, "-n", f.NS, "delete", "pvc", "--all", "--wait=false")
	_, _ = env.KubectlOK(t, env.AdminKubeconfig, "-n", f.NS, "delete", "configmap", "tpe-upgrade-progress", "--ignore-not-found")
}

// charts returns release name → "chart-version" of the installed Helm releases (real helm).
func (f *evFixture) charts(t testing.TB) map[string]string {
	t.Helper()
	r := env.HelmCLI(t, env.AdminKubeconfig, "list", "-n", f.NS, "-a", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("helm list: %s", r)
	}
	var list []struct{ Name, Chart, Status string }
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("helm list -o json: %v: %s", err, r.Stdout)
	}
	out := map[string]string{}
	for _, l := range list {
		out[l.Name] = l.Chart + " " + l.Status
	}
	return out
}

// evProgress is the JSON record of ConfigMap tpe-upgrade-progress (pkg/upgrade.Record).
type evProgress struct {
	Action, From, Target, State, Backup string
	Backups                             []struct {
		Hop            int
		From, To, Name string
	}
	Steps []struct {
		N                                                 int
		Kind, ReleaseName, Chart, Version, State, Message string
	}
}

// step returns the state of the chart step of release name ("" when absent).
func (p *evProgress) step(name string) string {
	for _, s := range p.Steps {
		if s.ReleaseName == name {
			return s.State
		}
	}
	return ""
}

// progress returns the recorded progress (nil when the ConfigMap is absent) and the whole
// ConfigMap as YAML.
func (f *evFixture) progress(t testing.TB) (*evProgress, string) {
	t.Helper()
	out, err := env.KubectlOK(t, env.AdminKubeconfig, "-n", f.NS, "get", "configmap", "tpe-upgrade-progress", "--ignore-not-found", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) == "" {
		return nil, ""
	}
	var cm struct{ Data map[string]string }
	if err := json.Unmarshal([]byte(out), &cm); err != nil {
		t.Fatalf("progress ConfigMap: %v", err)
	}
	var p evProgress
	if err := json.Unmarshal([]byte(cm.Data["progress.json"]), &p); err != nil {
		t.Fatalf("progress ConfigMap holds no progress.json record: %v\n%s", err, out)
	}
	return &p, out
}

// measured is one process run with its wall time, peak resident memory and time window.
type measured struct {
	framework.Result
	Wall       time.Duration
	MaxRSSKB   int64
	Start, End time.Time
}

// procEnv is the environment of a measured process: like the harness's (cluster binaries first in
// PATH, the run's Helm home) plus KUBECONFIG and extra.
func procEnv(kubeconfig string, extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "KUBECONFIG" || strings.HasPrefix(k, "HELM_") || k == "PATH" {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "PATH="+env.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HELM_CONFIG_HOME="+env.HelmHome+"/config", "HELM_CACHE_HOME="+env.HelmHome+"/cache", "HELM_DATA_HOME="+env.HelmHome+"/data")
	if kubeconfig != "" {
		out = append(out, "KUBECONFIG="+kubeconfig)
	}
	return append(out, extra...)
}

// runMeasured runs bin, timing it from start to exit, with its peak RSS (when /usr/bin/time exists).
func runMeasured(t testing.TB, environ []string, timeout time.Duration, bin string, args ...string) measured {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The peak RSS comes from /usr/bin/time: the rusage of a child the Go runtime starts counts the
	// parent's memory (the child shares it until exec, and Linux keeps that high-water mark).
	rssFile := ""
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		f, err := os.CreateTemp("", "tpe-rss-")
		if err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
		rssFile = f.Name()
		defer os.Remove(rssFile)
		args = append([]string{"-f", "%M", "-o", rssFile, bin}, args...)
		bin = "/usr/bin/time"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Dir = environ, env.Root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	m := measured{Start: time.Now()}
	err := cmd.Run()
	m.End = time.Now()
	m.Wall = m.End.Sub(m.Start)
	m.Stdout, m.Stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("%s %s: timed out after %s\n%s", bin, strings.Join(args, " "), timeout, redact(m.Result.String()))
	case errors.As(err, &ee):
		m.Code = ee.ExitCode()
	default:
		t.Fatalf("run %s: %v", bin, err)
	}
	if rssFile != "" {
		b, _ := os.ReadFile(rssFile)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		m.MaxRSSKB, _ = strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
	}
	return m
}

// auditCount counts the audited API requests received in [from, to] whose user agent starts with
// one of prefixes; mutating counts create/update/patch/delete.
type auditCount struct {
	Total, Mutating int
	ByVerb          map[string]int
	Mutations       []string
}

func countAudit(t testing.TB, from, to time.Time, prefixes ...string) auditCount {
	t.Helper()
	c := auditCount{ByVerb: map[string]int{}}
	for _, e := range env.Audit(t, from, "") {
		if e.Time.After(to) {
			continue
		}
		ok := false
		for _, p := range prefixes {
			ok = ok || strings.HasPrefix(e.UserAgent, p)
		}
		if !ok {
			continue
		}
		c.Total++
		c.ByVerb[e.Verb]++
		switch e.Verb {
		case "create", "update", "patch", "delete", "deletecollection":
			// SelfSubject*Reviews are "create" but change nothing
			if !strings.HasPrefix(e.Resource, "selfsubject") && !strings.HasSuffix(e.Resource, "accessreviews") && e.Resource != "tokenreviews" {
				c.Mutating++
				c.Mutations = append(c.Mutations, fmt.Sprintf("%s %s/%s %s/%s", e.Verb, e.Resource, e.Subresource, e.Namespace, e.Name))
			}
		}
	}
	return c
}

func (c auditCount) String() string {
	keys := make([]string, 0, len(c.ByVerb))
	for k := range c.ByVerb {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, c.ByVerb[k]))
	}
	return fmt.Sprintf("%d (%s)", c.Total, strings.Join(parts, ", "))
}
