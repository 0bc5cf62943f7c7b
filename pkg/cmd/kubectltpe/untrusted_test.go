package kubectltpe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPreflightMasksAndEscapes: whatever the output format, a backup URL's credentials and the
// values' secrets never appear (they were printed three times), and a certificate whose host name
// holds escape sequences cannot drive the terminal (written raw before).
func TestPreflightMasksAndEscapes(t *testing.T) {
	dir := t.TempDir()
	vals := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(vals, []byte("global:\n  installationId: f00dfeed1234abcd5678\n  backup:\n"+
		"    s3Compat: {url: 'http://AKIAURLUSER:URLSECRETPASS@minio.example.com:9000', bucket: b, accessKey: AKIAVALUESKEY, secretAccessKey: valuesSecretKey99}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"table", "json", "yaml"} {
		out, errOut, _, err := runRoot(t, "", "preflight", "--only", "values.*,backup.*", "-f", vals, "-o", o)
		all := out + errOut
		if err != nil {
			all += err.Error()
		}
		for _, s := range []string{"AKIAURLUSER", "URLSECRETPASS", "f00dfeed1234abcd5678", "valuesSecretKey99"} {
			if strings.Contains(all, s) {
				t.Errorf("-o %s: %q appears:\n%s", o, s, all)
			}
		}
		if o == "table" && !strings.Contains(all, "minio.example.com") {
			t.Logf("the backup host is not named (nothing to check the masking against):\n%s", all)
		}
	}

	host := "tpe.example.com\x1b]0;owned\x07\x1b[2J"
	cert, key := writeCert(t, dir, "evil", host, time.Now().Add(200*24*time.Hour))
	out, errOut, _, _ := runRoot(t, "", "preflight", "--only", "tls", "--tls-cert", cert, "--tls-key", key, "--hostname", "tpe.example.com")
	if strings.ContainsAny(out+errOut, "\x1b\x07") || !strings.Contains(out, `tpe.example.com\x1b]0;owned\x07`) {
		t.Errorf("a control character of the certificate reached the terminal, or the name is not shown escaped:\n%q", out+errOut)
	}
}
