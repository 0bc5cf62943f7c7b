package kubectltpe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for host valid until notAfter and its key.
func writeCert(t *testing.T, dir, name, host string, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestPreflightOnlyWithoutKubeconfig: `preflight --only tls` judges a certificate with no
// kubeconfig, and its exit code reflects only the TLS checks.
func TestPreflightOnlyWithoutKubeconfig(t *testing.T) {
	dir := t.TempDir()
	good, goodKey := writeCert(t, dir, "good", "tpe.example.com", time.Now().Add(200*24*time.Hour))
	soon, soonKey := writeCert(t, dir, "soon", "tpe.example.com", time.Now().Add(10*24*time.Hour))
	badCA := filepath.Join(dir, "bad-ca.pem")
	if err := os.WriteFile(badCA, []byte("not a CA"), 0o600); err != nil {
		t.Fatal(err)
	}
	tls := func(cert, key, ca string) []string {
		return []string{"preflight", "--only", "tls", "--tls-cert", cert, "--tls-key", key, "--tls-ca", ca, "--hostname", "tpe.example.com", "-o", "json"}
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		mention string // in stdout (code 0/2) or in the error (code 1)
	}{
		{"good certificate", tls(good, goodKey, good), 0, `"pass": 5`},
		{"expires in 10 days warns, --fail-on warn fails", append(tls(soon, soonKey, soon), "--fail-on", "warn"), 2, "expires in 10 days"},
		{"wrong host fails", []string{"preflight", "--only", "tls.*", "--tls-cert", good, "--hostname", "iot.example.org", "-o", "json"}, 2, "does not cover host name iot.example.org"},
		{"a bad CA file names --tls-ca", tls(good, goodKey, badCA), 1, "--tls-ca " + badCA + ": the CA certificate is not valid PEM"},
		{"a cluster check still needs a kubeconfig", []string{"preflight", "--only", "tls,nodes"}, 1, "no Kubernetes cluster is configured"},
		{"a typo is an error", []string{"preflight", "--only", "tsl"}, 1, `--only "tsl" matches no check`},
		{"--only tls without a certificate ran nothing: not OK", []string{"preflight", "--only", "tls"}, 2, "no check ran: the selection --only tls"},
		{"--only tls --skip tls ran nothing: not OK", []string{"preflight", "--only", "tls", "--skip", "tls", "--tls-cert", good}, 2, "no check ran: the selection --only tls --skip tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code, err := runRoot(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (err %v)\nstdout:\n%s\nstderr:\n%s", code, tt.code, err, out, errOut)
			}
			if tt.code == 1 || strings.HasPrefix(tt.mention, "no check ran") {
				if err == nil || !strings.Contains(err.Error(), tt.mention) {
					t.Fatalf("err %v, want %q", err, tt.mention)
				}
				return
			}
			if !strings.Contains(out, tt.mention) {
				t.Errorf("output lacks %q:\n%s", tt.mention, out)
			}
			var rep struct {
				Checks []struct{ ID, Category string }
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			for _, c := range rep.Checks {
				if c.Category != "TLS" {
					t.Errorf("check %s (%s) ran with --only tls", c.ID, c.Category)
				}
			}
		})
	}
}
