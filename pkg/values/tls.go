package values

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// CategoryTLS is the report category of the TLS checks.
const CategoryTLS = "TLS"

// ExpiryWarning is how close to its expiry a certificate starts to warn.
const ExpiryWarning = 30 * 24 * time.Hour

// TLSInput is a certificate to judge. CertPEM holds the server certificate first, then its chain
// (what global.ingress.tls.certificate holds). KeyPEM and CAPEM are optional.
type TLSInput struct {
	// Source names where the PEM came from, for messages ("values global.ingress.tls", "--tls-cert").
	Source string
	// KeySource and CASource name where KeyPEM and CAPEM came from ("--tls-key key.pem"), so that
	// an error names the file at fault; Source when empty.
	KeySource string
	CASource  string
	CertPEM   []byte
	KeyPEM    []byte
	CAPEM     []byte
	Hostname  string
	// Names name the inputs in remediations: the values keys when empty; a command that takes
	// them from its flags names its flags ("--tls-key").
	Names TLSNames
	// Now is the reference time (time.Now() when zero).
	Now time.Time
}

// TLSNames name the inputs of a TLSInput for the user.
type TLSNames struct {
	Cert, Key, CA, Hostname string
}

// orValues fills the empty names with the values keys.
func (n TLSNames) orValues() TLSNames {
	or := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	return TLSNames{Cert: or(n.Cert, KeyTLS+".certificate"), Key: or(n.Key, KeyTLS+".key"),
		CA: or(n.CA, KeyTLS+".caCertificate"), Hostname: or(n.Hostname, "global.dnsHostname")}
}

// TLSFromValues returns the certificate of global.ingress.tls, and ok=false when the values give
// none (self-signed or Let's Encrypt issuers).
func TLSFromValues(v Values) (TLSInput, bool) {
	cert := v.String(KeyTLS + ".certificate")
	if strings.TrimSpace(cert) == "" {
		return TLSInput{}, false
	}
	return TLSInput{
		Source:    "values " + KeyTLS,
		KeySource: "values " + KeyTLS + ".key",
		CASource:  "values " + KeyTLS + ".caCertificate",
		CertPEM:   []byte(cert),
		KeyPEM:    []byte(v.String(KeyTLS + ".key")),
		CAPEM:     []byte(v.String(KeyTLS + ".caCertificate")),
		Hostname:  v.DNSHostname(),
	}, true
}

// CheckTLS judges a certificate: the key matches it, the chain verifies to the CA, it is valid
// now (warns under 30 days), and its SANs cover the host name. PEM that does not parse is bad
// input and returns an error (which never contains key material).
func CheckTLS(in TLSInput) ([]check.Check, error) {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	src := in.Source
	if src == "" {
		src = "certificate"
	}
	keySrc, caSrc := in.KeySource, in.CASource
	if keySrc == "" {
		keySrc = src
	}
	if caSrc == "" {
		caSrc = src
	}
	certs, err := parseCerts(in.CertPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: the certificate is not valid PEM: %w", src, err)
	}
	// The server certificate comes first; a file with an intermediate first would be served in
	// that order, and every other check would judge the intermediate (a key "of another pair", a
	// host name it does not cover): say what is wrong, and judge the server certificate.
	server := serverIndex(certs)
	leaf := certs[server]
	var key crypto.Signer
	if len(strings.TrimSpace(string(in.KeyPEM))) > 0 {
		if key, err = parseKey(in.KeyPEM); err != nil {
			return nil, fmt.Errorf("%s: the private key is not valid PEM: %w", keySrc, err)
		}
	}
	var roots []*x509.Certificate
	if len(strings.TrimSpace(string(in.CAPEM))) > 0 {
		if roots, err = parseCerts(in.CAPEM); err != nil {
			return nil, fmt.Errorf("%s: the CA certificate is not valid PEM: %w", caSrc, err)
		}
	}
	name, names := describe(leaf), in.Names.orValues()
	out := []check.Check{
		{ID: "tls.parse", Category: CategoryTLS, Status: check.Pass,
			Message: fmt.Sprintf("%s: %s parses (%d certificate(s) in the chain)", src, name, len(certs))},
		checkKeyPair(src, name, leaf, key, names),
		checkChain(src, name, certs, roots, now, server, names),
		checkExpiry(src, name, leaf, now),
		checkHostname(src, name, leaf, in.Hostname, names),
	}
	return out, nil
}

func describe(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return fmt.Sprintf("certificate CN=%s", c.Subject.CommonName)
	}
	if len(c.DNSNames) > 0 {
		return fmt.Sprintf("certificate for %s", c.DNSNames[0])
	}
	return fmt.Sprintf("certificate serial %s", c.SerialNumber)
}

func checkKeyPair(src, name string, leaf *x509.Certificate, key crypto.Signer, names TLSNames) check.Check {
	c := check.Check{ID: "tls.keypair", Category: CategoryTLS}
	if key == nil {
		c.Status, c.Message = check.Skip, src+": no private key given, the key pair was not checked"
		return c
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		c.Status = check.Fail
		c.Message = fmt.Sprintf("%s: the private key does not match the %s (%s key of another pair)", src, name, keyKind(key))
		c.Remediation = "give the key that was generated with this certificate (" + names.Key + "); " +
			"compare `openssl x509 -noout -pubkey -in cert.pem` with `openssl pkey -pubout -in key.pem`"
		return c
	}
	c.Status, c.Message = check.Pass, fmt.Sprintf("%s: the private key matches the %s", src, name)
	return c
}

func keyKind(k crypto.Signer) string {
	switch k.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PrivateKey:
		return "ECDSA"
	case ed25519.PrivateKey:
		return "Ed25519"
	}
	return "unknown"
}

// serverIndex is the index of the server certificate of a chain file: 0, unless the file starts
// with a CA certificate and a later one is not a CA (the intermediate was put first).
func serverIndex(certs []*x509.Certificate) int {
	if !certs[0].IsCA {
		return 0
	}
	for i, c := range certs[1:] {
		if !c.IsCA {
			return i + 1
		}
	}
	return 0
}

func checkChain(src, name string, certs, roots []*x509.Certificate, now time.Time, server int, names TLSNames) check.Check {
	c := check.Check{ID: "tls.chain", Category: CategoryTLS}
	if server > 0 {
		c.Status = check.Fail
		c.Message = fmt.Sprintf("%s: the chain is in the wrong order: it starts with the %s, a CA certificate, and the server's %s is certificate %d of %d",
			src, describe(certs[0]), name, server+1, len(certs))
		c.Remediation = "put the server certificate first, then every intermediate (each followed by the one that issued it), in " + names.Cert
		return c
	}
	opts := x509.VerifyOptions{Intermediates: x509.NewCertPool(), CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for _, ic := range certs[1:] {
		opts.Intermediates.AddCert(ic)
	}
	what := "the system trust store"
	if len(roots) > 0 {
		opts.Roots = x509.NewCertPool()
		for _, r := range roots {
			opts.Roots.AddCert(r)
		}
		what = "the given CA (" + describe(roots[0]) + ")"
	}
	// Expiry is judged by its own check; verify the chain at a time the leaf is valid so that an
	// expired certificate is not reported twice.
	if now.After(certs[0].NotAfter) {
		opts.CurrentTime = certs[0].NotAfter.Add(-time.Second)
	} else if now.Before(certs[0].NotBefore) {
		opts.CurrentTime = certs[0].NotBefore.Add(time.Second)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		c.Status = check.Fail
		if len(roots) == 0 {
			c.Status = check.Warn
		}
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired && inv.Cert != nil {
			// An issuer out of its validity: x509 words it with the time the chain was judged
			// at (the leaf's own expiry, see above), which says nothing useful.
			ic := inv.Cert
			when := "expired on " + ic.NotAfter.UTC().Format(time.DateOnly)
			if opts.CurrentTime.Before(ic.NotBefore) {
				when = "is not valid before " + ic.NotBefore.UTC().Format(time.DateOnly)
			}
			c.Message = fmt.Sprintf("%s: the %s is issued by the %s, which %s", src, name, describe(ic), when)
			c.Remediation = "renew the " + describe(ic) + " (or get a certificate from a current CA), then update global.ingress.tls.certificate and global.ingress.tls.caCertificate"
			return c
		}
		c.Message = fmt.Sprintf("%s: the %s does not verify to %s: %v", src, name, what, chainReason(err))
		c.Remediation = "put the server certificate first, then every intermediate, in " + names.Cert +
			", and the root CA that issued it in " + names.CA
		return c
	}
	c.Status, c.Message = check.Pass, fmt.Sprintf("%s: the %s verifies to %s", src, name, what)
	return c
}

func chainReason(err error) string {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return "it is signed by an unknown authority"
	}
	return err.Error()
}

func checkExpiry(src, name string, leaf *x509.Certificate, now time.Time) check.Check {
	c := check.Check{ID: "tls.expiry", Category: CategoryTLS}
	left := leaf.NotAfter.Sub(now)
	switch {
	case now.After(leaf.NotAfter):
		c.Status = check.Fail
		c.Message = fmt.Sprintf("%s: the %s expired on %s", src, name, leaf.NotAfter.UTC().Format(time.DateOnly))
		c.Remediation = "renew the certificate and update global.ingress.tls.certificate and .key"
	case now.Before(leaf.NotBefore):
		c.Status = check.Fail
		c.Message = fmt.Sprintf("%s: the %s is not valid before %s", src, name, leaf.NotBefore.UTC().Format(time.RFC3339))
		c.Remediation = "check the clock of the machine that issued it, or wait until it becomes valid"
	case left < ExpiryWarning:
		c.Status = check.Warn
		c.Message = fmt.Sprintf("%s: the %s expires %s (%s)", src, name, inDays(DaysUntil(now, leaf.NotAfter)), leaf.NotAfter.UTC().Format(time.DateOnly))
		c.Remediation = "renew the certificate before it expires"
	default:
		c.Status = check.Pass
		c.Message = fmt.Sprintf("%s: the %s is valid until %s", src, name, leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	return c
}

// DaysUntil counts the days from now to t as people count them: calendar days between the two
// dates (UTC, the dates the messages show), so a certificate valid for 10 more days is "10
// days", not 9 days and 23 hours rounded down.
func DaysUntil(now, t time.Time) int {
	y1, m1, d1 := now.UTC().Date()
	y2, m2, d2 := t.UTC().Date()
	a := time.Date(y1, m1, d1, 0, 0, 0, 0, time.UTC)
	b := time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

func inDays(n int) string {
	switch n {
	case 0:
		return "today"
	case 1:
		return "tomorrow"
	}
	return fmt.Sprintf("in %d days", n)
}

func checkHostname(src, name string, leaf *x509.Certificate, host string, names TLSNames) check.Check {
	c := check.Check{ID: "tls.hostname", Category: CategoryTLS}
	if host == "" {
		c.Status, c.Message = check.Skip, src+": no host name given ("+names.Hostname+"), SANs not checked"
		return c
	}
	sans := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		sans = append(sans, ip.String())
	}
	if err := leaf.VerifyHostname(host); err != nil {
		c.Status = check.Fail
		c.Message = fmt.Sprintf("%s: the %s does not cover host name %s (SANs: %s)", src, name, host, text.OrNone(strings.Join(sans, ", ")))
		c.Remediation = "issue a certificate whose subjectAltName includes " + host + ", or fix " + names.Hostname
		return c
	}
	c.Status, c.Message = check.Pass, fmt.Sprintf("%s: the %s covers %s", src, name, host)
	return c
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CERTIFICATE block found")
	}
	return out, nil
}

func parseKey(data []byte) (crypto.Signer, error) {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PRIVATE KEY block found")
		}
		switch b.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				return nil, errors.New("the RSA PRIVATE KEY block does not parse")
			}
			return k, nil
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				return nil, errors.New("the EC PRIVATE KEY block does not parse")
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, errors.New("the PRIVATE KEY block does not parse")
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, errors.New("unsupported private key type")
			}
			return s, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key is encrypted; give it unencrypted")
		}
	}
}
