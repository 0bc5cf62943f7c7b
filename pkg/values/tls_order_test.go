package values

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

// issue signs a certificate for cn (a CA when ca) with parent (self-signed when nil).
func issue(t *testing.T, cn string, ca bool, nb, na time.Time, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: nb, NotAfter: na, BasicConstraintsValid: true, IsCA: ca}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames, tmpl.ExtKeyUsage = []string{cn}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return c, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

// TestCheckTLSChainOrderAndExpiredIssuer: a chain file with the intermediate first is named as
// such (and the server certificate is judged, not the intermediate); an issuer out of its
// validity is named with its date and "renew", not x509's "current time ...".
func TestCheckTLSChainOrderAndExpiredIssuer(t *testing.T) {
	now := time.Now()
	root, rootKey, rootPEM, _ := issue(t, "Test Root CA", true, now.AddDate(-2, 0, 0), now.AddDate(5, 0, 0), nil, nil)
	mid, midKey, midPEM, _ := issue(t, "Test Issuing CA", true, now.AddDate(-1, 0, 0), now.AddDate(3, 0, 0), root, rootKey)
	_, _, leafPEM, leafKey := issue(t, "tpe.example.com", false, now.AddDate(0, -1, 0), now.AddDate(0, 6, 0), mid, midKey)

	oldRoot, oldRootKey, oldRootPEM, _ := issue(t, "Old Root CA", true, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 12, 30, 0, 0, 0, 0, time.UTC), nil, nil)
	_, _, oldLeafPEM, oldLeafKey := issue(t, "tpe.example.com", false, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), oldRoot, oldRootKey)

	tests := []struct {
		name              string
		in                TLSInput
		wantChain         check.Status
		mention, remedies string
	}{
		{"server first", TLSInput{CertPEM: append(append([]byte{}, leafPEM...), midPEM...), KeyPEM: leafKey, CAPEM: rootPEM, Hostname: "tpe.example.com"},
			check.Pass, "verifies", ""},
		{"intermediate first", TLSInput{CertPEM: append(append([]byte{}, midPEM...), leafPEM...), KeyPEM: leafKey, CAPEM: rootPEM, Hostname: "tpe.example.com"},
			check.Fail, "wrong order: it starts with the certificate CN=Test Issuing CA", "put the server certificate first"},
		{"expired root and leaf", TLSInput{CertPEM: oldLeafPEM, KeyPEM: oldLeafKey, CAPEM: oldRootPEM, Hostname: "tpe.example.com"},
			check.Fail, "issued by the certificate CN=Old Root CA, which expired on 2020-12-30", "renew the certificate CN=Old Root CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := CheckTLS(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			r := check.NewReport("T")
			r.Add(cs...)
			c, _ := r.Find("tls.chain")
			if c.Status != tt.wantChain || !strings.Contains(c.Message, tt.mention) || !strings.Contains(c.Remediation, tt.remedies) {
				t.Fatalf("tls.chain = %+v, want %s mentioning %q, remedy %q", c, tt.wantChain, tt.mention, tt.remedies)
			}
			if strings.Contains(c.Message, "current time") {
				t.Errorf("x509's wording: %s", c.Message)
			}
			// The key pair and the host name are judged on the server certificate.
			for _, id := range []string{"tls.keypair", "tls.hostname"} {
				if o, _ := r.Find(id); o.Status != check.Pass {
					t.Errorf("%s = %+v, want pass", id, o)
				}
			}
			if tt.name == "expired root and leaf" {
				if e, _ := r.Find("tls.expiry"); e.Status != check.Fail || !strings.Contains(e.Message, "expired on 2021-01-01") || !strings.Contains(e.Remediation, "renew") {
					t.Errorf("tls.expiry = %+v", e)
				}
			}
		})
	}
}
