package values

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

func TestLoadMerge(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.yaml")
	b := filepath.Join(dir, "b.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(a, []byte("global:\n  dnsHostname: a.example.com\n  installationId: ID1\nlrc:\n  persistence: {storageClass: x}\nkeep: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("global:\n  dnsHostname: b.example.com\nkeep: null\nlrc:\n  priorityClassName: thingpark-datapath\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("global: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	v, err := LoadContext(t.Context(), []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"global.dnsHostname", "b.example.com"},
		{"global.installationId", "ID1"},
		{"lrc.persistence.storageClass", "x"},
		{"keep", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := v.String(tt.path); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
	if got := v.PriorityClassNames(); got["thingpark-datapath"] != "lrc.priorityClassName" {
		t.Errorf("PriorityClassNames = %v", got)
	}
	if got := v.StorageClasses(); got["lrc.persistence.storageClass"] != "x" || len(got) != 1 {
		t.Errorf("StorageClasses = %v", got)
	}
	for _, files := range [][]string{{bad}, {filepath.Join(dir, "missing.yaml")}} {
		_, err := LoadContext(t.Context(), files)
		if err == nil || !strings.Contains(err.Error(), files[0]) {
			t.Errorf("LoadContext(%v) error %v must name the file", files, err)
		}
	}
}

func TestCheckInstallationID(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       check.Status
	}{
		{"set", "global: {installationId: 'abcd-1234-secret'}", check.Pass},
		{"missing", "global: {}", check.Fail},
		{"zeros", "global: {installationId: '0000000000'}", check.Fail},
		{"placeholder", "global: {installationId: '<InstallationID>'}", check.Fail},
		{"spaces", "global: {installationId: ' abcd-1234-secret '}", check.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			c := CheckInstallationID(v)
			if c.Status != tt.want {
				t.Errorf("status %s, want %s: %s", c.Status, tt.want, c.Message)
			}
			if strings.Contains(c.Message+c.Remediation, "abcd-1234-secret") {
				t.Errorf("the installation ID leaked: %s", c.Message)
			}
		})
	}
}

func TestCheckBackup(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       check.Status
		mention    []string
		kind       string
	}{
		{"s3compat ok", `global: {backup: {s3Compat: {url: "http://minio:9000", bucket: b, accessKey: AKIASECRET, secretAccessKey: SUPERSECRET}}}`,
			check.Pass, []string{"S3-compatible", `"b"`}, BackupS3Compat},
		{"s3compat missing", `global: {backup: {s3Compat: {url: "http://minio:9000", accessKey: AKIASECRET}}}`,
			check.Fail, []string{"global.backup.s3Compat.bucket", "global.backup.s3Compat.secretAccessKey"}, BackupS3Compat},
		{"s3compat secret of the wrong type", `global: {backup: {s3Compat: {url: "http://minio:9000", bucket: b, accessKey: AKIASECRET, secretAccessKey: {value: SUPERSECRET}}}}`,
			check.Fail, []string{"global.backup.s3Compat.secretAccessKey is a map", "wrong type"}, BackupS3Compat},
		{"amazon iam role", `global: {backup: {amazon: {region: us-east-2, bucket: b}}}`, check.Pass, []string{"IAM role"}, BackupAmazon},
		{"amazon half key", `global: {backup: {amazon: {region: us-east-2, bucket: b, accessKey: AKIASECRET}}}`,
			check.Fail, []string{"global.backup.amazon.secretAccessKey"}, BackupAmazon},
		{"azure missing", `global: {backup: {azure: {storageAccount: acct, blobContainer: c, clientSecret: SUPERSECRET}}}`,
			check.Fail, []string{"clientId", "tenantId", "subscriptionId", "resourceGroup"}, BackupAzure},
		{"two kinds", `global: {backup: {amazon: {region: r, bucket: b}, azure: {storageAccount: a}}}`, check.Fail, []string{"amazon, azure", "exactly one"}, ""},
		{"none", `global: {}`, check.Fail, []string{"global.backup is missing"}, ""},
		{"empty block", `global: {backup: {schedule: "30 2 * * *"}}`, check.Fail, []string{"one of s3Compat"}, ""},
		{"7.1 top level", `backup: {s3Compat: {url: "http://m", bucket: b, accessKey: AKIASECRET, secretAccessKey: SUPERSECRET}}`,
			check.Pass, []string{"7.1 layout"}, BackupS3Compat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			c := CheckBackup(v)
			if c.Status != tt.want {
				t.Fatalf("status %s, want %s: %s", c.Status, tt.want, c.Message)
			}
			for _, m := range tt.mention {
				if !strings.Contains(c.Message, m) {
					t.Errorf("message %q does not mention %q", c.Message, m)
				}
			}
			all := c.Message + c.Remediation + strings.Join(c.Details, " ")
			for _, secret := range []string{"AKIASECRET", "SUPERSECRET"} {
				if strings.Contains(all, secret) {
					t.Errorf("secret %s leaked: %s", secret, all)
				}
			}
			if b, _ := BackupFromValues(v); b.Kind != tt.kind {
				t.Errorf("kind %q, want %q", b.Kind, tt.kind)
			}
		})
	}
}

// certKit issues test certificates with crypto/x509.
type certKit struct {
	t      *testing.T
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
}

func newCertKit(t *testing.T) *certKit {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA"},
		NotBefore: time.Now().Add(-400 * 24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &certKit{t: t, caCert: c, caKey: key, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf returns (cert PEM, key PEM) for dnsName valid from nb to na.
func (k *certKit) leaf(dnsName string, nb, na time.Time) ([]byte, []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: dnsName},
		DNSNames: []string{dnsName}, NotBefore: nb, NotAfter: na, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, k.caCert, &key.PublicKey, k.caKey)
	if err != nil {
		k.t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

func TestCheckTLS(t *testing.T) {
	kit := newCertKit(t)
	other := newCertKit(t)
	now := time.Now()
	good, goodKey := kit.leaf("tpe.example.com", now.Add(-time.Hour), now.Add(90*24*time.Hour))
	_, otherKey := kit.leaf("tpe.example.com", now.Add(-time.Hour), now.Add(90*24*time.Hour))
	expired, expiredKey := kit.leaf("tpe.example.com", now.Add(-60*24*time.Hour), now.Add(-24*time.Hour))
	soon, soonKey := kit.leaf("tpe.example.com", now.Add(-time.Hour), now.Add(10*24*time.Hour))

	tests := []struct {
		name       string
		in         TLSInput
		wantID     string
		want       check.Status
		mention    string
		allPassExc string
	}{
		{"good", TLSInput{CertPEM: good, KeyPEM: goodKey, CAPEM: kit.caPEM, Hostname: "tpe.example.com"}, "", check.Pass, "", ""},
		{"key mismatch", TLSInput{CertPEM: good, KeyPEM: otherKey, CAPEM: kit.caPEM, Hostname: "tpe.example.com"}, "tls.keypair", check.Fail, "does not match", ""},
		{"expired", TLSInput{CertPEM: expired, KeyPEM: expiredKey, CAPEM: kit.caPEM, Hostname: "tpe.example.com"}, "tls.expiry", check.Fail, "expired on", ""},
		{"expires soon", TLSInput{CertPEM: soon, KeyPEM: soonKey, CAPEM: kit.caPEM, Hostname: "tpe.example.com"}, "tls.expiry", check.Warn, "expires in", ""},
		{"wrong host", TLSInput{CertPEM: good, KeyPEM: goodKey, CAPEM: kit.caPEM, Hostname: "other.example.org"}, "tls.hostname", check.Fail, "does not cover host name other.example.org (SANs: tpe.example.com)", ""},
		{"wrong CA", TLSInput{CertPEM: good, KeyPEM: goodKey, CAPEM: other.caPEM, Hostname: "tpe.example.com"}, "tls.chain", check.Fail, "unknown authority", ""},
		{"no key no host", TLSInput{CertPEM: good, CAPEM: kit.caPEM}, "tls.keypair", check.Skip, "no private key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := CheckTLS(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			r := check.NewReport("T")
			r.Add(cs...)
			if tt.wantID == "" {
				if r.Worst() != check.Pass {
					t.Fatalf("worst %s: %+v", r.Worst(), cs)
				}
				return
			}
			c, ok := r.Find(tt.wantID)
			if !ok || c.Status != tt.want || !strings.Contains(c.Message, tt.mention) {
				t.Fatalf("%s = %+v, want %s mentioning %q", tt.wantID, c, tt.want, tt.mention)
			}
			for _, o := range cs {
				if o.ID != tt.wantID && o.Status == check.Fail {
					t.Errorf("unrelated failure %+v", o)
				}
				if strings.Contains(o.Message+o.Remediation, "PRIVATE KEY") {
					t.Errorf("key material in %+v", o)
				}
			}
		})
	}
}

func TestCheckTLSBadPEM(t *testing.T) {
	kit := newCertKit(t)
	good, goodKey := kit.leaf("a", time.Now(), time.Now().Add(time.Hour))
	tests := []struct {
		name    string
		in      TLSInput
		mention string
	}{
		{"cert", TLSInput{Source: "--tls-cert", CertPEM: []byte("not pem")}, "--tls-cert: the certificate is not valid PEM"},
		{"key", TLSInput{CertPEM: good, KeyPEM: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}, "private key is not valid PEM"},
		{"ca", TLSInput{CertPEM: good, KeyPEM: goodKey, CAPEM: []byte("junk")}, "CA certificate is not valid PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckTLS(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("err %v, want %q", err, tt.mention)
			}
		})
	}
}

func TestTLSFromValues(t *testing.T) {
	kit := newCertKit(t)
	c, k := kit.leaf("tpe.example.com", time.Now().Add(-time.Hour), time.Now().Add(100*24*time.Hour))
	v := Values{"global": map[string]any{"dnsHostname": "tpe.example.com", "ingress": map[string]any{"tls": map[string]any{
		"issuer": "external", "certificate": string(c), "key": string(k), "caCertificate": string(kit.caPEM)}}}}
	in, ok := TLSFromValues(v)
	if !ok || in.Hostname != "tpe.example.com" {
		t.Fatalf("TLSFromValues = %+v %v", in, ok)
	}
	if _, ok := TLSFromValues(Values{}); ok {
		t.Error("no certificate must give ok=false")
	}
}

func TestChecks(t *testing.T) {
	kit := newCertKit(t)
	c, k := kit.leaf("tpe.example.com", time.Now().Add(-time.Hour), time.Now().Add(100*24*time.Hour))
	v := Values{"global": map[string]any{"installationId": "abcd-1234-secret", "dnsHostname": "tpe.example.com",
		"backup":  map[string]any{"amazon": map[string]any{"bucket": "b", "region": "eu-west-1"}},
		"ingress": map[string]any{"tls": map[string]any{"certificate": string(c), "key": string(k), "caCertificate": string(kit.caPEM)}}}}
	tests := []struct {
		name, host string
		want       check.Status
	}{
		{"values host", "", check.Pass},
		{"other host", "other.example.org", check.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := Checks(v, tt.host, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			r := check.NewReport("Values")
			r.Add(cs...)
			if r.Worst() != tt.want || len(cs) != 7 {
				t.Errorf("worst %s (%d checks), want %s: %+v", r.Worst(), len(cs), tt.want, cs)
			}
		})
	}
	v["global"].(map[string]any)["ingress"] = map[string]any{"tls": map[string]any{"certificate": "junk"}}
	if _, err := Checks(v, "", time.Time{}); err == nil {
		t.Error("a bad PEM must be an error")
	}
}

// TestCheckTLSBadPEMNamesTheFile: an input error names the file at fault: a bad CA names the CA
// file, a bad key the key file, not the certificate.
func TestCheckTLSBadPEMNamesTheFile(t *testing.T) {
	kit := newCertKit(t)
	good, goodKey := kit.leaf("a", time.Now(), time.Now().Add(time.Hour))
	src := TLSInput{Source: "--tls-cert tls.crt", KeySource: "--tls-key tls.key", CASource: "--tls-ca ca.crt"}
	tests := []struct {
		name        string
		cert, key   []byte
		ca          []byte
		want, wrong string
	}{
		{"cert", []byte("junk"), nil, nil, "--tls-cert tls.crt: the certificate is not valid PEM", "--tls-key"},
		{"key", good, []byte("junk"), nil, "--tls-key tls.key: the private key is not valid PEM", "--tls-cert"},
		{"ca", good, goodKey, []byte("junk"), "--tls-ca ca.crt: the CA certificate is not valid PEM", "--tls-cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := src
			in.CertPEM, in.KeyPEM, in.CAPEM = tt.cert, tt.key, tt.ca
			_, err := CheckTLS(in)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), tt.wrong) {
				t.Fatalf("err %v, want %q and not %q", err, tt.want, tt.wrong)
			}
		})
	}
	v := Values{"global": map[string]any{"ingress": map[string]any{"tls": map[string]any{
		"certificate": string(good), "key": string(goodKey), "caCertificate": "junk"}}}}
	in, _ := TLSFromValues(v)
	if _, err := CheckTLS(in); err == nil || !strings.Contains(err.Error(), "values global.ingress.tls.caCertificate: the CA certificate") {
		t.Errorf("values CA error %v does not name global.ingress.tls.caCertificate", err)
	}
}

// TestDaysUntil: days are counted as people count them, from date to date.
func TestDaysUntil(t *testing.T) {
	now := time.Date(2026, 12, 2, 16, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want int
	}{
		{"10 days to the second", now.Add(10 * 24 * time.Hour), 10},
		{"10 days minus a second", now.Add(10*24*time.Hour - time.Second), 10},
		{"9 days and 8 hours, on the 10th date", now.Add(9*24*time.Hour + 8*time.Hour), 10},
		{"later today", now.Add(time.Hour), 0},
		{"tomorrow morning", time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC), 1},
		{"other time zone, same instant", now.Add(10 * 24 * time.Hour).In(time.FixedZone("X", -11*3600)), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DaysUntil(now, tt.t); got != tt.want {
				t.Errorf("DaysUntil = %d, want %d", got, tt.want)
			}
		})
	}
	kit := newCertKit(t)
	soon, _ := kit.leaf("tpe.example.com", time.Now().Add(-time.Hour), time.Now().Add(10*24*time.Hour))
	cs, err := CheckTLS(TLSInput{CertPEM: soon})
	if err != nil {
		t.Fatal(err)
	}
	r := check.NewReport("T")
	r.Add(cs...)
	if c, _ := r.Find("tls.expiry"); c.Status != check.Warn || !strings.Contains(c.Message, "expires in 10 days") {
		t.Errorf("a certificate valid 10 more days: %+v", c)
	}
}

// No files is empty values, not nil and not an error: the commands load unconditionally.
func TestLoadNoFiles(t *testing.T) {
	v, err := LoadContext(t.Context(), nil)
	if err != nil || v == nil || len(v) != 0 {
		t.Fatalf("LoadContext(nil) = %#v, %v", v, err)
	}
}

// Remediations name the values keys by default and the names a command gives (its flags).
func TestCheckTLSNamesTheInputs(t *testing.T) {
	kit := newCertKit(t)
	now := time.Now()
	good, _ := kit.leaf("tpe.example.com", now.Add(-time.Hour), now.Add(90*24*time.Hour))
	_, otherKey := kit.leaf("tpe.example.com", now.Add(-time.Hour), now.Add(90*24*time.Hour))
	for _, tt := range []struct {
		names         TLSNames
		key, hostname string
	}{
		{TLSNames{}, "(global.ingress.tls.key)", "(global.dnsHostname)"},
		{TLSNames{Key: "--tls-key", Hostname: "--hostname"}, "(--tls-key)", "(--hostname)"},
	} {
		cs, err := CheckTLS(TLSInput{CertPEM: good, KeyPEM: otherKey, Names: tt.names})
		if err != nil {
			t.Fatal(err)
		}
		r := check.NewReport("T")
		r.Add(cs...)
		if c, _ := r.Find("tls.keypair"); !strings.Contains(c.Remediation, tt.key) {
			t.Errorf("keypair remediation %q, want %q", c.Remediation, tt.key)
		}
		if c, _ := r.Find("tls.hostname"); !strings.Contains(c.Message, tt.hostname) {
			t.Errorf("hostname message %q, want %q", c.Message, tt.hostname)
		}
	}
}
