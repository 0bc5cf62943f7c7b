//go:build e2e

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Issue 4 "Done when", on the local control plane.

// preflightReport is the documented JSON of a check report (docs/output-schema.md).
type preflightReport struct {
	Kind   string `json:"kind"`
	Checks []struct {
		ID, Category, Status, Message, Remediation string
		Details                                    []string
	} `json:"checks"`
	Summary map[string]int `json:"summary"`
}

func (r preflightReport) find(t *testing.T, id string) (status, text string) {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == id {
			return c.Status, c.Message + "\n" + strings.Join(c.Details, "\n") + "\n" + c.Remediation
		}
	}
	t.Fatalf("no check %s in the report", id)
	return "", ""
}

func parseReport(t *testing.T, stdout string) preflightReport {
	t.Helper()
	var r preflightReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("preflight -o json is not JSON: %v\n%s", err, stdout)
	}
	return r
}

// The objects `prereqs apply --hosting other` creates.
var prereqObjects = [][2]string{
	{"priorityclass", "thingpark-datapath"}, {"priorityclass", "thingpark-data"}, {"priorityclass", "thingpark-others"},
	{"storageclass", "thingpark-standard"}, {"ingressclass", "nginx-tpe"},
}

func deletePrereqs(t *testing.T) {
	for _, o := range prereqObjects {
		_, _ = env.KubectlOK(t, env.AdminKubeconfig, "delete", o[0], o[1], "--ignore-not-found")
	}
}

var prereqFlags = []string{"--hosting", "other", "--storage-provisioner", "kwok.x-k8s.io/volume"}

func TestPreflightAdminBeforeAndAfterPrereqs(t *testing.T) {
	deletePrereqs(t)
	t.Cleanup(func() { deletePrereqs(t) })
	// The target is pinned: without --to it is the newest release of the matrix.
	admin := append([]string{"preflight", "--profile", "admin", "--to", "v7.3.6", "-o", "json"}, prereqFlags...)

	t.Run("before prereqs apply: PriorityClasses and StorageClass fail and are named", func(t *testing.T) {
		r := env.KubectlTPE(t, env.AdminKubeconfig, admin...)
		if r.Code != 2 {
			t.Fatalf("want exit 2: %s", r)
		}
		rep := parseReport(t, r.Stdout)
		for id, names := range map[string][]string{
			"priorityclasses": {"thingpark-datapath", "thingpark-data", "thingpark-others"},
			"storage.classes": {"thingpark-standard"},
			"ingress.class":   {"nginx-tpe"},
		} {
			st, text := rep.find(t, id)
			if st != "fail" {
				t.Errorf("%s = %s, want fail: %s", id, st, text)
			}
			for _, n := range names {
				if !strings.Contains(text, n) {
					t.Errorf("%s does not name %s: %s", id, n, text)
				}
			}
			if !strings.Contains(text, "kubectl tpe prereqs apply") {
				t.Errorf("%s has no remediation: %s", id, text)
			}
		}
		if st, text := rep.find(t, "rbac.admin"); st != "pass" {
			t.Errorf("rbac.admin for the cluster admin = %s: %s", st, text)
		}
		if st, text := rep.find(t, "kubernetes.version"); st != "warn" || !strings.Contains(text, "newer than the versions validated for TPE v7.3.6") {
			t.Errorf("kubernetes.version on 1.37 = %s: %s", st, text)
		}
	})

	t.Run("prereqs show prints the manifests", func(t *testing.T) {
		r := env.KubectlTPE(t, env.AdminKubeconfig, append([]string{"prereqs", "show"}, prereqFlags...)...)
		if r.Code != 0 || strings.Count(r.Stdout, "\nkind: ") != 5 || !strings.Contains(r.Stdout, "provisioner: kwok.x-k8s.io/volume") {
			t.Fatalf("prereqs show: %s", r)
		}
	})

	t.Run("prereqs apply --dry-run=client makes zero mutating requests", func(t *testing.T) {
		since := time.Now()
		r := env.KubectlTPE(t, env.AdminKubeconfig, append([]string{"prereqs", "apply", "--dry-run=client"}, prereqFlags...)...)
		if r.Code != 0 || strings.Count(r.Stdout, "would create") != 5 {
			t.Fatalf("dry run: %s", r)
		}
		events := env.Audit(t, since, "kubectl-tpe")
		if len(events) == 0 {
			t.Fatal("no request of kubectl-tpe in the audit log")
		}
		for _, ev := range events {
			if ev.Verb != "list" && ev.Verb != "get" && ev.Verb != "watch" {
				t.Errorf("mutating request in --dry-run=client: %s %s %s", ev.Verb, ev.Resource, ev.Name)
			}
		}
		t.Logf("prereqs apply --dry-run=client: %d requests, all reads", len(events))
		if _, err := env.KubectlOK(t, env.AdminKubeconfig, "get", "priorityclass", "thingpark-datapath"); err == nil {
			t.Error("--dry-run=client created thingpark-datapath")
		}
	})

	t.Run("prereqs apply --dry-run=server persists nothing", func(t *testing.T) {
		r := env.KubectlTPE(t, env.AdminKubeconfig, append([]string{"prereqs", "apply", "--dry-run=server"}, prereqFlags...)...)
		if r.Code != 0 || strings.Count(r.Stdout, "would create") != 5 {
			t.Fatalf("server dry run: %s", r)
		}
		if _, err := env.KubectlOK(t, env.AdminKubeconfig, "get", "storageclass", "thingpark-standard"); err == nil {
			t.Error("--dry-run=server created thingpark-standard")
		}
	})

	t.Run("prereqs apply creates, then reports unchanged", func(t *testing.T) {
		r := env.KubectlTPE(t, env.AdminKubeconfig, append([]string{"prereqs", "apply"}, prereqFlags...)...)
		if r.Code != 0 || strings.Count(r.Stdout, "created") != 5 {
			t.Fatalf("apply: %s", r)
		}
		r = env.KubectlTPE(t, env.AdminKubeconfig, append([]string{"prereqs", "apply", "-o", "json"}, prereqFlags...)...)
		if r.Code != 0 || strings.Count(r.Stdout, `"action": "unchanged"`) != 5 {
			t.Fatalf("re-apply: %s", r)
		}
		mf := env.KubectlAdmin(t, "get", "priorityclass", "thingpark-datapath", "-o", "jsonpath={.value} {.metadata.managedFields[*].manager}")
		if mf != "1000000 kubectl-tpe" {
			t.Errorf("thingpark-datapath: %q, want value 1000000 managed by kubectl-tpe", mf)
		}
	})

	t.Run("after prereqs apply they pass", func(t *testing.T) {
		since := time.Now()
		start := time.Now()
		r := env.KubectlTPE(t, env.AdminKubeconfig, admin...)
		wall := time.Since(start)
		rep := parseReport(t, r.Stdout)
		for _, id := range []string{"priorityclasses", "storage.classes", "storage.dynamic-provisioning", "ingress.class", "storage.binding-mode", "storage.expansion"} {
			if st, text := rep.find(t, id); st != "pass" {
				t.Errorf("%s = %s after apply: %s", id, st, text)
			}
		}
		events := env.Audit(t, since, "kubectl-tpe")
		t.Logf("FIGURE preflight --profile admin on the local cluster: %d API requests, wall time %s (exit %d)", len(events), wall.Round(time.Millisecond), r.Code)
		if len(events) > 20 {
			t.Errorf("preflight made %d requests, budget 20", len(events))
		}
	})

	t.Run("a field owned by another manager is a conflict unless --force-conflicts", func(t *testing.T) {
		other := `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"thingpark-standard"},"provisioner":"kwok.x-k8s.io/volume","allowVolumeExpansion":false}`
		f := filepath.Join(t.TempDir(), "sc.json")
		if err := os.WriteFile(f, []byte(other), 0o600); err != nil {
			t.Fatal(err)
		}
		env.KubectlAdmin(t, "apply", "--server-side", "--force-conflicts", "--field-manager", "gitops", "-f", f)
		r := env.KubectlTPE(t, env.AdminKubeconfig, append([]string{"prereqs", "apply"}, prereqFlags...)...)
		if r.Code != 2 || !strings.Contains(r.Stdout, "conflict") || !strings.Contains(r.Stdout, "--force-conflicts") {
			t.Fatalf("want a conflict on thingpark-standard: %s", r)
		}
		if v := env.KubectlAdmin(t, "get", "storageclass", "thingpark-standard", "-o", "jsonpath={.allowVolumeExpansion}"); v != "false" {
			t.Errorf("the conflicting field was overwritten: %q", v)
		}
		r = env.KubectlTPE(t, env.AdminKubeconfig, append([]string{"prereqs", "apply", "--force-conflicts"}, prereqFlags...)...)
		if r.Code != 0 || !strings.Contains(r.Stdout, "configured") {
			t.Fatalf("--force-conflicts: %s", r)
		}
	})
}

func TestPreflightOperatorProfiles(t *testing.T) {
	t.Run("operator passes the operator profile", func(t *testing.T) {
		since, start := time.Now(), time.Now()
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "preflight", "--profile", "operator", "-o", "json")
		wall := time.Since(start)
		if r.Code != 0 {
			t.Fatalf("want exit 0: %s", r)
		}
		events := env.Audit(t, since, "kubectl-tpe")
		t.Logf("FIGURE preflight --profile operator on the local cluster: %d API requests, wall time %s", len(events), wall.Round(time.Millisecond))
		if len(events) > 20 {
			t.Errorf("preflight made %d requests, budget 20", len(events))
		}
		rep := parseReport(t, r.Stdout)
		if st, text := rep.find(t, "rbac.operator"); st != "pass" || !strings.Contains(text, "user tpe-operator") {
			t.Errorf("rbac.operator = %s: %s", st, text)
		}
		// Cluster-scoped kinds the operator may not list are skipped, not failed.
		if st, _ := rep.find(t, "priorityclasses"); st != "skip" {
			t.Errorf("priorityclasses for the operator = %s, want skip", st)
		}
	})

	t.Run("default profile of the operator is operator", func(t *testing.T) {
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "preflight", "-o", "json")
		if r.Code != 0 || !strings.Contains(r.Stderr, `profile "operator"`) {
			t.Fatalf("%s", r)
		}
	})

	t.Run("operator fails the admin profile with the exact missing permissions", func(t *testing.T) {
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "preflight", "--profile", "admin", "-o", "json")
		if r.Code != 2 {
			t.Fatalf("want exit 2: %s", r)
		}
		st, text := parseReport(t, r.Stdout).find(t, "rbac.admin")
		if st != "fail" || !strings.Contains(text, "lacks 24 of the 24") {
			t.Fatalf("rbac.admin = %s: %s", st, text)
		}
		for _, res := range []string{"storageclasses.storage.k8s.io", "priorityclasses.scheduling.k8s.io", "ingressclasses.networking.k8s.io",
			"customresourcedefinitions.apiextensions.k8s.io", "clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io"} {
			for _, verb := range []string{"create", "update", "patch", "delete"} {
				if !strings.Contains(text, "\n"+verb+" "+res+"\n") {
					t.Errorf("rbac.admin does not list %s %s", verb, res)
				}
			}
		}
	})

	t.Run("the admin checks the operator with --as", func(t *testing.T) {
		r := env.KubectlTPE(t, env.AdminKubeconfig, "preflight", "--profile", "operator", "-n", env.Namespace, "--as", "tpe-operator", "--as-group", "tpe-operators", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("%s", r)
		}
		if st, text := parseReport(t, r.Stdout).find(t, "rbac.operator"); st != "pass" || !strings.Contains(text, "tpe-operator") {
			t.Errorf("rbac.operator --as = %s: %s", st, text)
		}
	})

	t.Run("removing one psmdb verb fails check 7 naming that verb", func(t *testing.T) {
		t.Cleanup(func() { env.GrantOperator(t, env.Namespace) }) // restore the harness Role
		role := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"tpe-operator-data-crs","namespace":"` + env.Namespace + `","labels":{"tpe.test/harness":"operator"}},
"rules":[{"apiGroups":["kafka.strimzi.io"],"resources":["*"],"verbs":["*"]},
{"apiGroups":["psmdb.percona.com"],"resources":["*"],"verbs":["get","list","watch","create","update","patch","deletecollection"]}]}`
		f := filepath.Join(t.TempDir(), "role.json")
		if err := os.WriteFile(f, []byte(role), 0o600); err != nil {
			t.Fatal(err)
		}
		env.KubectlAdmin(t, "replace", "-f", f)
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "preflight", "--profile", "operator", "-o", "json")
		if r.Code != 2 {
			t.Fatalf("want exit 2: %s", r)
		}
		st, text := parseReport(t, r.Stdout).find(t, "rbac.operator")
		if st != "fail" || !strings.Contains(text, "perconaservermongodbs.psmdb.percona.com: delete") {
			t.Fatalf("rbac.operator = %s: %s", st, text)
		}
		for _, res := range []string{"perconaservermongodbs", "perconaservermongodbbackups", "perconaservermongodbrestores"} {
			if !strings.Contains(text, "\ndelete "+res+".psmdb.percona.com in namespace "+env.Namespace+"\n") {
				t.Errorf("missing permission delete %s not listed: %s", res, text)
			}
		}
		if strings.Contains(text, "\npatch perconaservermongodbs") || strings.Contains(text, ".kafka.strimzi.io in namespace") {
			t.Errorf("permissions that are granted are listed: %s", text)
		}
	})
}

// tlsKit issues certificates for the TLS checks.
type tlsKit struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string
}

func newTLSKit(t *testing.T) *tlsKit {
	t.Helper()
	k := &tlsKit{dir: t.TempDir()}
	k.caKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e root"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-365 * 24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.caKey.PublicKey, k.caKey)
	if err != nil {
		t.Fatal(err)
	}
	k.ca, _ = x509.ParseCertificate(der)
	k.caFile = k.write(t, "ca.pem", "CERTIFICATE", der)
	return k
}

func (k *tlsKit) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(k.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// leaf writes a certificate for host valid from nb to na, and its key; it returns both paths.
func (k *tlsKit) leaf(t *testing.T, name, host string, nb, na time.Time) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: nb, NotAfter: na, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, k.ca, &key.PublicKey, k.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return k.write(t, name+".crt", "CERTIFICATE", der), k.write(t, name+".key", "PRIVATE KEY", kd)
}

func TestPreflightTLS(t *testing.T) {
	k := newTLSKit(t)
	now := time.Now()
	good, goodKey := k.leaf(t, "good", "tpe.example.com", now.Add(-time.Hour), now.Add(200*24*time.Hour))
	_, otherKey := k.leaf(t, "other", "tpe.example.com", now.Add(-time.Hour), now.Add(200*24*time.Hour))
	expired, expiredKey := k.leaf(t, "expired", "tpe.example.com", now.Add(-90*24*time.Hour), now.Add(-2*24*time.Hour))
	tests := []struct {
		name, cert, key, host, id, mention string
	}{
		{"good pair", good, goodKey, "tpe.example.com", "", ""},
		{"key does not match", good, otherKey, "tpe.example.com", "tls.keypair", "the private key does not match the certificate CN=tpe.example.com"},
		{"expired", expired, expiredKey, "tpe.example.com", "tls.expiry", "expired on"},
		{"wrong hostname", good, goodKey, "iot.example.org", "tls.hostname", "does not cover host name iot.example.org (SANs: tpe.example.com)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.KubectlTPE(t, env.OperatorKubeconfig, "preflight", "--profile", "operator", "-o", "json",
				"--tls-cert", tt.cert, "--tls-key", tt.key, "--tls-ca", k.caFile, "--hostname", tt.host)
			rep := parseReport(t, r.Stdout)
			if tt.id == "" {
				for _, id := range []string{"tls.keypair", "tls.chain", "tls.expiry", "tls.hostname"} {
					if st, text := rep.find(t, id); st != "pass" {
						t.Errorf("%s = %s: %s", id, st, text)
					}
				}
				if r.Code != 0 {
					t.Errorf("want exit 0: %s", r)
				}
				return
			}
			if r.Code != 2 {
				t.Errorf("want exit 2: %s", r)
			}
			if st, text := rep.find(t, tt.id); st != "fail" || !strings.Contains(text, tt.mention) {
				t.Errorf("%s = %s: %s; want fail mentioning %q", tt.id, st, text, tt.mention)
			}
			if strings.Contains(r.Stdout+r.Stderr, "PRIVATE KEY") {
				t.Error("key material in the output")
			}
		})
	}
	t.Run("a PEM that does not parse is a clear error before any request", func(t *testing.T) {
		bad := filepath.Join(k.dir, "bad.crt")
		if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
			t.Fatal(err)
		}
		since := time.Now()
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "preflight", "--tls-cert", bad)
		if r.Code != 1 || !strings.Contains(r.Stderr, "--tls-cert "+bad+": the certificate is not valid PEM") {
			t.Fatalf("want exit 1 naming --tls-cert: %s", r)
		}
		if ev := env.Audit(t, since, "kubectl-tpe"); len(ev) != 0 {
			t.Errorf("bad input sent %d requests", len(ev))
		}
	})
}

func TestPreflightOutputFormats(t *testing.T) {
	t.Run("-o json validates against docs/output-schema.md", func(t *testing.T) {
		md, err := os.ReadFile(filepath.Join(env.Root, "docs", "output-schema.md"))
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(string(md), "```json\n")
		block, _, _ := strings.Cut(rest, "```")
		schemaDoc, err := jsonschema.UnmarshalJSON(strings.NewReader(block))
		if err != nil {
			t.Fatalf("schema block: %v", err)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("schema.json", schemaDoc); err != nil {
			t.Fatal(err)
		}
		schema, err := c.Compile("schema.json")
		if err != nil {
			t.Fatal(err)
		}
		for _, kc := range []string{env.AdminKubeconfig, env.OperatorKubeconfig} {
			r := env.KubectlTPE(t, kc, "preflight", "-o", "json", "--segment", "L", "-n", env.Namespace)
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(r.Stdout))
			if err != nil {
				t.Fatalf("not JSON: %v\n%s", err, r)
			}
			if err := schema.Validate(doc); err != nil {
				t.Errorf("preflight -o json (%s) does not match the schema: %v", filepath.Base(kc), err)
			}
		}
	})
	t.Run("junit and table", func(t *testing.T) {
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "preflight", "-o", "junit")
		var suites struct {
			XMLName xml.Name `xml:"testsuites"`
			Tests   int      `xml:"tests,attr"`
		}
		if err := xml.Unmarshal([]byte(r.Stdout), &suites); err != nil || suites.Tests == 0 {
			t.Fatalf("junit: %v\n%s", err, r)
		}
		r = env.KubectlTPE(t, env.OperatorKubeconfig, "preflight")
		for _, want := range []string{"CATEGORY", "Firewall checklist", "TCP/3001, TCP/3101", "Preflight: OK with warnings"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("table lacks %q:\n%s", want, r.Stdout)
			}
		}
	})
	t.Run("--fail-on warn and --strict turn the version warning into exit 2", func(t *testing.T) {
		for _, args := range [][]string{{"--fail-on", "warn"}, {"--strict"}} {
			if r := env.KubectlTPE(t, env.OperatorKubeconfig, append([]string{"preflight", "-o", "json"}, args...)...); r.Code != 2 {
				t.Errorf("%v: want exit 2, got %s", args, r)
			}
		}
	})
	t.Run("bad input is one clear error", func(t *testing.T) {
		for args, want := range map[string]string{
			"--tpe-version latest":   "--to: ",
			"-f /nonexistent/v.yaml": `"/nonexistent/v.yaml"`,
			"--hosting ovh":          "--hosting must be one of",
			"--profile root":         "--profile must be",
		} {
			r := env.KubectlTPE(t, env.OperatorKubeconfig, append([]string{"preflight"}, strings.Fields(args)...)...)
			if r.Code != 1 || !strings.Contains(r.Stderr, want) || strings.Count(r.Stderr, "error:") != 1 {
				t.Errorf("%s: want one error mentioning %q, got %s", args, want, r)
			}
		}
	})
}

// TestPreflightNetworkTest: kwok does not run containers, so the probe pods never produce a
// measurement; the run must time out with a clear message and leave no pod behind.
func TestPreflightNetworkTest(t *testing.T) {
	r := env.KubectlTPE(t, env.AdminKubeconfig, "preflight", "-n", env.Namespace, "-o", "json", "--network-test",
		"--network-test-timeout", "8s", "--network-test-image", "example.invalid/iperf3:test")
	st, text := parseReport(t, r.Stdout).find(t, "network.inter-zone")
	if st != "fail" || !strings.Contains(text, "did not complete") {
		t.Errorf("network.inter-zone = %s: %s", st, text)
	}
	left := env.KubectlAdmin(t, "get", "pods", "-A", "-l", "tpe.thingpark.io/network-test", "-o", "name")
	if strings.TrimSpace(left) != "" {
		t.Errorf("probe pods left behind: %s", left)
	}
}

// TestPreflightProbe: --probe against local endpoints: the chart repository of the run (with the
// installation ID of the values, which must never be printed), a configuration repository serving
// the fixture VERSIONS files, an in-process S3-compatible server holding the backup bucket, and an
// SMTP relay port.
func TestPreflightProbe(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("tpe-backup"); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(backend).Server())
	defer s3.Close()
	conf := httptest.NewServer(http.FileServer(http.Dir(env.ReleasesDir)))
	defer conf.Close()
	smtp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	go func() {
		for {
			c, err := smtp.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	valuesFor := func(bucket, id string) string {
		f := filepath.Join(t.TempDir(), "values.yaml")
		v := "global:\n  installationId: " + id + "\n  dnsHostname: tpe.example.com\n  outgoingMail:\n    smtpServer: " + smtp.Addr().String() + "\n" +
			"  backup:\n    s3Compat:\n      url: " + s3.URL + "\n      bucket: " + bucket + "\n      accessKey: e2e-access\n      secretAccessKey: e2e-backup-secret\n"
		if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	probe := func(t *testing.T, values string) (preflightReport, string) {
		r := env.KubectlTPE(t, env.OperatorKubeconfig, "preflight", "--profile", "operator", "-o", "json", "--probe", "--probe-timeout", "3s",
			"--to", "v7.3.1", "--chart-repo", env.RepoURL, "--config-repo", conf.URL, "-f", values)
		for _, secret := range []string{env.InstallationID, "e2e-backup-secret"} {
			if strings.Contains(r.Stdout+r.Stderr, secret) {
				t.Errorf("a secret appears in the output")
			}
		}
		return parseReport(t, r.Stdout), r.String()
	}
	t.Run("every endpoint reachable", func(t *testing.T) {
		rep, out := probe(t, valuesFor("tpe-backup", env.InstallationID))
		for _, id := range []string{"machine.chart-repository", "machine.config-repository", "backup.config", "backup.reachable", "network.probe.smtp", "network.probe.backup", "values.installation-id"} {
			if st, text := rep.find(t, id); st != "pass" {
				t.Errorf("%s = %s: %s\n%s", id, st, text, out)
			}
		}
	})
	t.Run("wrong installation ID and missing bucket fail", func(t *testing.T) {
		rep, _ := probe(t, valuesFor("no-such-bucket", "wrong-installation-id"))
		if st, text := rep.find(t, "machine.chart-repository"); st != "fail" || !strings.Contains(text, "credentials were refused") {
			t.Errorf("chart repository = %s: %s", st, text)
		}
		if st, text := rep.find(t, "backup.reachable"); st != "fail" || !strings.Contains(text, `bucket "no-such-bucket" does not exist`) {
			t.Errorf("backup.reachable = %s: %s", st, text)
		}
	})
}

func TestPreflightAsWithoutRights(t *testing.T) {
	r := env.KubectlTPE(t, env.OperatorKubeconfig, "preflight", "--as", "someone-else")
	if r.Code != 1 || !strings.Contains(r.Stderr, "--as someone-else: you may neither impersonate this user nor create SubjectAccessReviews") {
		t.Fatalf("want one clear error: %s", r)
	}
}
