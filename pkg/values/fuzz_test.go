package values

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

// The fuzz tests below run their seed corpus (testdata/fuzz/<Fuzz...>) with every `go test`; `make
// fuzz` runs each with -fuzz for a few seconds. They check that values parsing never panics and that
// no secret (installation ID, backup credentials, private key) reaches a message.

// leaks returns the secrets that appear in any message, remediation or detail of cs. Secrets shorter
// than 8 characters, or contained in text that is not secret (e.g. a URL equal to the key), are
// ignored: they cannot be told apart from ordinary words.
func leaks(cs []check.Check, public string, secrets ...string) []string {
	var text strings.Builder
	for _, c := range cs {
		text.WriteString(c.Message + "\x00" + c.Remediation + "\x00" + strings.Join(c.Details, "\x00") + "\x00")
	}
	var out []string
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) < 8 || strings.Contains(public, s) {
			continue
		}
		if strings.Contains(text.String(), s) {
			out = append(out, s)
		}
	}
	return out
}

// FuzzParse feeds arbitrary YAML to Parse, Merge and the installation ID check.
func FuzzParse(f *testing.F) {
	f.Add([]byte("global:\n  installationId: abcdefghijklmnop1234\n"))
	f.Add([]byte("global: {installationId: \"  spaced-id-0001 \"}\n"))
	f.Add([]byte("a: &x {b: 1}\nc: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil {
			return
		}
		if v == nil {
			t.Fatal("Parse returned a nil tree without an error")
		}
		merged := Merge(Merge(Values{}, v), v)
		if len(merged) != len(nonNil(v)) {
			t.Fatalf("merging a tree into itself changed its top-level keys: %d → %d", len(nonNil(v)), len(merged))
		}
		c := CheckInstallationID(v)
		if c.Status != check.Pass && c.Status != check.Fail {
			t.Fatalf("installation ID check status %q", c.Status)
		}
		if l := leaks([]check.Check{c}, KeyInstallationID, v.String(KeyInstallationID)); len(l) > 0 {
			t.Fatalf("the installation ID appears in %+v", c)
		}
	})
}

func nonNil(v Values) Values {
	out := Values{}
	for k, x := range v {
		if x != nil {
			out[k] = x
		}
	}
	return out
}

// FuzzBackup feeds arbitrary values to the backup block parser and check: no panic, exactly one kind
// when the check passes, and no credential in the check or in the JSON form of Backup.
func FuzzBackup(f *testing.F) {
	f.Add([]byte("global:\n  backup:\n    s3Compat: {url: 'http://minio:9000', bucket: b, accessKey: AKIAFUZZSEED0001, secretAccessKey: fuzz-secret-access-key-0001}\n"))
	f.Add([]byte("global:\n  backup:\n    azure: {resourceGroup: rg, storageAccount: sa, blobContainer: c, subscriptionId: s, tenantId: tenant-0001, clientId: client-0001, clientSecret: azure-client-secret-0001}\n"))
	f.Add([]byte("backup:\n  amazon: {bucket: b, region: eu-west-1, accessKey: AKIAFUZZSEED0002}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil {
			return
		}
		b, ok := BackupFromValues(v)
		c := CheckBackup(v)
		if ok && c.Status == check.Pass && len(b.Kinds) != 1 {
			t.Fatalf("check passes with %d storages: %+v", len(b.Kinds), c)
		}
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("Backup does not marshal: %v", err)
		}
		public := strings.Join([]string{b.Path, b.Kind, b.Schedule, b.URL, b.Bucket, b.Region, b.ResourceGroup,
			b.StorageAccount, b.BlobContainer, b.CloudName, b.SubscriptionID, strings.Join(b.Missing(), " ")}, "\x00")
		secrets := []string{b.AccessKey, b.SecretAccessKey, b.TenantID, b.ClientID, b.ClientSecret}
		if l := leaks([]check.Check{c, {Message: b.Describe(), Remediation: string(js)}}, public, secrets...); len(l) > 0 {
			t.Fatalf("backup credentials %q appear in %+v or %s", l, c, js)
		}
	})
}

// FuzzCheckTLS feeds arbitrary PEM to CheckTLS: no panic, an error or checks (never both empty),
// and never any line of the private key in a check or in the error.
func FuzzCheckTLS(f *testing.F) {
	cert, key, ca := fuzzCert(f)
	f.Add(cert, key, ca, "tpe.example.com")
	f.Add(cert, key, []byte(nil), "")
	f.Add(cert, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), ca, "x")
	f.Add([]byte("junk"), key, ca, "tpe.example.com")
	f.Fuzz(func(t *testing.T, certPEM, keyPEM, caPEM []byte, host string) {
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		cs, err := CheckTLS(TLSInput{Source: "fuzz", CertPEM: certPEM, KeyPEM: keyPEM, CAPEM: caPEM, Hostname: host, Now: now})
		if err == nil && len(cs) == 0 {
			t.Fatal("no error and no check")
		}
		// every base64 line of the key, and the whole key, are secret
		secrets := []string{string(keyPEM)}
		for _, line := range strings.Split(string(keyPEM), "\n") {
			if !strings.HasPrefix(line, "-----") {
				secrets = append(secrets, line)
			}
		}
		public := string(certPEM) + "\x00" + string(caPEM) + "\x00" + host
		if err != nil {
			cs = append(cs, check.Check{Message: err.Error()})
		}
		if l := leaks(cs, public, secrets...); len(l) > 0 {
			t.Fatalf("private key material %q appears in %+v", l, cs)
		}
	})
}

// fuzzCert makes a CA and a leaf certificate with its key (deterministic serials, random keys).
func fuzzCert(f *testing.F) (cert, key, ca []byte) {
	f.Helper()
	rnd := rand.New(rand.NewSource(8))
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		f.Fatal(err)
	}
	nb, na := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Fuzz CA"}, NotBefore: nb, NotAfter: na,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rnd, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		f.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rnd)
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "tpe.example.com"},
		DNSNames: []string{"tpe.example.com"}, NotBefore: nb, NotAfter: na, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rnd, lt, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		f.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}
