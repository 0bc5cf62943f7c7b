package redact

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestIsSecretKey(t *testing.T) {
	tests := []struct {
		parent, key string
		want        bool
	}{
		{"global", "installationId", true},
		{"amazon", "accessKey", true},
		{"amazon", "secretAccessKey", true},
		{"s3Compat", "secretKey", true},
		{"azure", "clientSecret", true},
		{"rootUser", "password", true},
		{"outgoingMail", "smtpPassword", true},
		{"oauthFederation", "client_secret", true},
		{"api", "apiToken", true},
		{"gcs", "credentials", true},
		{"tls", "key", true},
		{"sshConfig", "key", true},
		{"x", "privateKey", true},
		{"x", "db-password", true},
		{"smtp", "pass", true},
		{"x", "passive", false},
		{"tolerations", "key", false},
		{"matchExpressions", "key", false},
		{"tls", "secretName", false},
		{"mongo", "existingSecret", false},
		{"mongo", "passwordSecretRef", false},
		{"global", "imagePullSecrets", false},
		{"oidc", "tokenUrl", false},
		{"oidc", "tokenTTL", false},
		{"x", "passwordLength", false},
		{"x", "publicKey", false},
		{"tls", "certificate", false},
		{"global", "dnsHostname", false},
		{"amazon", "bucket", false},
	}
	for _, tt := range tests {
		if got := IsSecretKey(tt.parent, tt.key); got != tt.want {
			t.Errorf("IsSecretKey(%q, %q) = %v, want %v", tt.parent, tt.key, got, tt.want)
		}
	}
}

func TestFromValues(t *testing.T) {
	tests := []struct {
		name   string
		values string
		want   map[string]string // path → value
	}{
		{"installation ID and backup keys", `
global:
  installationId: id-0123456789
  dnsHostname: tpe.example.com
  backup:
    amazon: {bucket: b, region: eu-west-3, accessKey: AKIA1234, secretAccessKey: s3cr3t-key}
    azure: {tenantId: tenant-1111, clientId: client-2222, clientSecret: az-secret, storageAccount: acct}
`, map[string]string{"global.installationId": "id-0123456789", "global.backup.amazon.accessKey": "AKIA1234",
			"global.backup.amazon.secretAccessKey": "s3cr3t-key", "global.backup.azure.tenantId": "tenant-1111",
			"global.backup.azure.clientId": "client-2222", "global.backup.azure.clientSecret": "az-secret"}},
		{"TLS key, not the certificate", `
global: {ingress: {tls: {issuer: external, certificate: "CERT-PEM-TEXT", key: "KEY-PEM-TEXT"}}}
`, map[string]string{"global.ingress.tls.key": "KEY-PEM-TEXT"}},
		{"nested and lists", `
mariadb-galera: {rootUser: {user: root, password: mariadb-pw}}
users:
- {name: alice, password: alice-pw}
- {name: bob, password: 12345678}
smtp:
  credentials: {user: mailer, pass: mail-pass}
tokens: [tok-aaaa, tok-bbbb]
tolerations: [{key: zone, operator: Exists}]
`, map[string]string{"mariadb-galera.rootUser.password": "mariadb-pw", "users[0].password": "alice-pw",
			"users[1].password": "12345678", "smtp.credentials.user": "mailer", "smtp.credentials.pass": "mail-pass",
			"tokens[0]": "tok-aaaa", "tokens[1]": "tok-bbbb"}},
		{"short, empty, boolean and references skipped", `
global: {installationId: ""}
a: {password: "abc", token: true, secretName: my-secret, existingSecret: db-creds, imagePullSecrets: [{name: pull}]}
`, map[string]string{}},
		{"one entry per value", `
a: {password: same-value}
b: {password: same-value}
`, map[string]string{"a.password": "same-value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v map[string]any
			if err := yaml.Unmarshal([]byte(tt.values), &v); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, s := range FromValues(v) {
				got[s.Path] = s.Value
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for p, w := range tt.want {
				if got[p] != w {
					t.Errorf("%s = %q, want %q (all: %v)", p, got[p], w, got)
				}
			}
		})
	}
}

const pemKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2
OF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r
1RTwjmYSi9R/zE1nbbf1/1+ws3cFyhdxCZzdfhGxOXgUF1aeBzYcWQTY
-----END PRIVATE KEY-----
`

func TestTaggedRedactor(t *testing.T) {
	secrets := []Secret{{Path: "global.installationId", Value: "id-0123456789"}, {Path: "global.backup.amazon.accessKey", Value: "AKIAEXAMPLE42"},
		{Path: "global.ingress.tls.key", Value: pemKey}, {Path: "smtp.password", Value: "p@ss word/1"}}
	r := NewTagged(secrets)
	reindented := "    " + strings.ReplaceAll(strings.TrimSpace(pemKey), "\n", "\n    ")
	tests := []struct {
		name, in string
		hidden   []string // must not remain
		want     []string // must appear
	}{
		{"alone", "id-0123456789", []string{"id-0123456789"}, []string{"<redacted global.installationId #"}},
		{"inside a longer string", `args: ["--repo-password=id-0123456789", "--key=AKIAEXAMPLE42x"]`, []string{"id-0123456789", "AKIAEXAMPLE42"},
			[]string{"--repo-password=<redacted global.installationId #", "<redacted global.backup.amazon.accessKey #"}},
		{"base64 of the value", "data: " + base64.StdEncoding.EncodeToString([]byte("id-0123456789")), []string{base64.StdEncoding.EncodeToString([]byte("id-0123456789"))},
			[]string{"base64>"}},
		{"base64 of a longer text, every alignment", strings.Join([]string{
			base64.StdEncoding.EncodeToString([]byte(`{"auth":"id-0123456789:id-0123456789"}`)),
			base64.StdEncoding.EncodeToString([]byte(`x:id-0123456789!`)),
			base64.StdEncoding.EncodeToString([]byte(`xy:id-0123456789!!`)),
		}, "\n"), nil, nil},
		{"re-indented PEM key", "key: |\n" + reindented, strings.Split(strings.TrimSpace(pemKey), "\n")[1:4], []string{"line 2>"}},
		{"PEM key on one line, JSON-escaped", `{"key":` + jsonQuote(pemKey) + `}`, strings.Split(strings.TrimSpace(pemKey), "\n")[1:4], nil},
		{"URL-escaped", "smtp://user:p%40ss+word%2F1@mail", []string{"p%40ss+word%2F1"}, []string{"url>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.String(tt.in)
			for _, h := range tt.hidden {
				if strings.Contains(got, h) {
					t.Errorf("%q remains in %q", h, got)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q not in %q", w, got)
				}
			}
			if got == tt.in {
				t.Errorf("nothing masked in %q", got)
			}
		})
	}
	// The hidden id must not be recoverable from the base64 cases: decode what is left.
	for _, text := range []string{`{"auth":"id-0123456789:id-0123456789"}`, `x:id-0123456789!`, `xy:id-0123456789!!`} {
		if got := r.String(base64.StdEncoding.EncodeToString([]byte(text))); strings.Contains(got, base64.StdEncoding.EncodeToString([]byte("id-0123456789"))[:8]) {
			t.Errorf("base64 of %q: %q", text, got)
		}
	}
}

func jsonQuote(s string) string { return strconv.Quote(s) }

func TestTagIsStableAndDistinct(t *testing.T) {
	a := Tag(Secret{Path: "p", Value: "value-one"}, "")
	if a != Tag(Secret{Path: "p", Value: "value-one"}, "") {
		t.Error("the tag of a value changes between calls")
	}
	if a == Tag(Secret{Path: "p", Value: "value-two"}, "") {
		t.Error("two values have the same tag")
	}
	if strings.Contains(a, "value") || !strings.HasPrefix(a, "<redacted p #") {
		t.Errorf("tag %q", a)
	}
	r1 := NewTagged([]Secret{{Path: "p", Value: "value-one"}})
	r2 := NewTagged([]Secret{{Path: "p", Value: "value-one"}, {Path: "q", Value: "other-value"}})
	if r1.String("x value-one") != r2.String("x value-one") {
		t.Error("two Redactors of the same process tag a value differently")
	}
}

func TestNewKeepsMaskAndHidesVariants(t *testing.T) {
	r := New("abcdefghij1234")
	b64 := base64.StdEncoding.EncodeToString([]byte("abcdefghij1234"))
	got := r.String("id abcdefghij1234 b64 " + b64)
	if got != "id ****1234 b64 ****" {
		t.Errorf("String = %q", got)
	}
	var nilR *Redactor
	if nilR.String("x") != "x" || nilR.Error(nil) != nil {
		t.Error("a nil Redactor must pass text through")
	}
	if got := New("").String("abc"); got != "abc" {
		t.Errorf("empty secret: %q", got)
	}
}
