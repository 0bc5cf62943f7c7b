package helmtpe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/internal/bundletest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

const testKeyPassword = "s3cret-key-password"

// keygen runs bundle keygen into dir/name and returns the private and public key files.
func keygen(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	t.Setenv(EnvKeyPassword, testKeyPassword)
	out, stderr, err := run(t, nil, "bundle", "keygen", "--output-prefix", filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("keygen: %v\n%s", err, stderr)
	}
	if strings.Contains(out+stderr, testKeyPassword) {
		t.Fatalf("keygen prints the password:\n%s\n%s", out, stderr)
	}
	return filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
}

// resum swaps the charts of the bundle file and writes its SHA256SUMS again, keeping its
// signature: what someone who replaces a chart does.
func resum(t *testing.T, file string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	swapped := bundletest.Resum(t, raw, true, func(n string, d []byte) []byte {
		if strings.HasPrefix(n, "charts/") {
			return append([]byte("swapped "), d...)
		}
		return d
	})
	if err := os.WriteFile(file, swapped, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBundleKeygenAndSign(t *testing.T) {
	noKubeconfig(t)
	dir := t.TempDir()
	priv, pub := keygen(t, dir, "builder")
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v %v", fi, err)
	}
	// A key is never overwritten.
	if _, _, err := run(t, nil, "bundle", "keygen", "--output-prefix", filepath.Join(dir, "builder")); err == nil || !strings.Contains(err.Error(), priv) {
		t.Errorf("second keygen: %v", err)
	}
	// No password: not asked without a terminal, the error says how to give it.
	os.Unsetenv(EnvKeyPassword)
	if _, _, err := run(t, nil, "bundle", "keygen", "--output-prefix", filepath.Join(dir, "nopw")); err == nil || !strings.Contains(err.Error(), EnvKeyPassword) {
		t.Errorf("keygen without a password: %v", err)
	}
	_, otherPub := keygen(t, dir, "other")

	file := filepath.Join(dir, "site.tar.gz")
	if err := os.WriteFile(file, bundletest.Bytes(t, nil, "v7.3.1"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Unsigned: refused with --key (exit 2 for verify), accepted without.
	_, _, err := run(t, nil, "bundle", "verify", file, "--key", pub)
	if cli.ExitCode(err) != cli.ExitFailed || !strings.Contains(err.Error(), "bundle "+file+" is not signed") || !strings.Contains(err.Error(), "omit --key") {
		t.Errorf("verify --key of an unsigned bundle: exit %d, %v", cli.ExitCode(err), err)
	}
	if _, _, err := run(t, nil, "bundle", "verify", file); err != nil {
		t.Errorf("verify without --key: %v", err)
	}

	// push refuses it before it reads the registry.
	if _, _, err := run(t, nil, "bundle", "push", file, "--registry", "127.0.0.1:9/tpe", "--key", pub, "--cache-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not signed") {
		t.Errorf("push --key of an unsigned bundle: %v", err)
	}

	// A wrong password: the key file is named, the password is not.
	t.Setenv(EnvKeyPassword, "wrong password")
	if _, _, err := run(t, nil, "bundle", "sign", file, "--key", priv); err == nil || !strings.Contains(err.Error(), priv) ||
		!strings.Contains(err.Error(), "password") || strings.Contains(err.Error(), "wrong password") {
		t.Errorf("sign with a wrong password: %v", err)
	}
	// The public key given to sign: the error says which key to pass, before any password.
	if _, _, err := run(t, nil, "bundle", "sign", file, "--key", pub); err == nil || !strings.Contains(err.Error(), "pass the private key") {
		t.Errorf("sign with the public key: %v", err)
	}
	t.Setenv(EnvKeyPassword, testKeyPassword)
	out, stderr, err := run(t, nil, "bundle", "sign", file, "--key", priv, "-o", "json")
	var res BundleSignResult
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || !bundle.ValidDigest(res.Digest) {
		t.Fatalf("sign: %v %+v\n%s\n%s", err, res, out, stderr)
	}
	if strings.Contains(out+stderr, testKeyPassword) {
		t.Errorf("sign prints the password")
	}

	out, _, err = run(t, nil, "bundle", "verify", file, "--key", pub, "--digest", res.Digest)
	if err != nil || !strings.Contains(out, "signed with "+pub) {
		t.Errorf("verify --key: %v\n%s", err, out)
	}
	out, _, err = run(t, nil, "bundle", "verify", file)
	if err != nil || !strings.Contains(out, "signed, not checked") {
		t.Errorf("verify of a signed bundle without --key: %v\n%s", err, out)
	}
	// Another key: refused, naming the bundle and the key.
	_, _, err = run(t, nil, "bundle", "verify", file, "--key", otherPub)
	if cli.ExitCode(err) != cli.ExitFailed || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "another key than "+otherPub) {
		t.Errorf("verify with another key: exit %d, %v", cli.ExitCode(err), err)
	}
	// The private key given to verify.
	if _, _, err := run(t, nil, "bundle", "verify", file, "--key", priv); cli.ExitCode(err) != cli.ExitErr || !strings.Contains(err.Error(), "public key") {
		t.Errorf("verify with the private key: exit %d, %v", cli.ExitCode(err), err)
	}

	// plan --bundle --key: the signed bundle passes the signature check; another key is refused.
	if _, stderr, err := run(t, nil, "plan", "--from", "v7.2.2c", "--bundle", file, "--key", pub); err != nil {
		t.Errorf("plan --bundle --key: %v\n%s", err, stderr)
	}
	if _, _, err := run(t, nil, "plan", "--from", "v7.2.2c", "--bundle", file, "--key", otherPub); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("plan with another key: %v", err)
	}
	if _, _, err := run(t, nil, "plan", "--from", "v7.2.2c", "--to", "v7.3.1", "--key", pub); err == nil || !strings.Contains(err.Error(), "--bundle") {
		t.Errorf("--key without --bundle: %v", err)
	}

	// A chart swapped and SHA256SUMS re-summed: accepted without --key, refused with it.
	resum(t, file)
	if _, _, err := run(t, nil, "bundle", "verify", file); err != nil {
		t.Errorf("verify without --key of a re-summed bundle: %v", err)
	}
	_, _, err = run(t, nil, "bundle", "verify", file, "--key", pub)
	if cli.ExitCode(err) != cli.ExitFailed || !strings.Contains(err.Error(), "SHA256SUMS is not the one signed") || !strings.Contains(err.Error(), "get the bundle again") {
		t.Errorf("verify --key of a re-summed bundle: exit %d, %v", cli.ExitCode(err), err)
	}
	if _, _, err := run(t, nil, "plan", "--from", "v7.2.2c", "--bundle", file); err != nil {
		t.Errorf("plan without --key of a re-summed bundle: %v", err)
	}
	// upgrade refuses it before it reads the cluster.
	cl := newCluster(t, "v7.2.2c")
	values := writeTemp(t, "global:\n  installationId: abcdef0123456789\n")
	_, _, err = run(t, cl, "upgrade", "--bundle", file, "--key", pub, "-f", values)
	if err == nil || !strings.Contains(err.Error(), "changed after it was signed") {
		t.Errorf("upgrade of a re-summed bundle: %v", err)
	}
	if h, _ := cl.Action.Releases.History("tpe"); len(h) > 1 {
		t.Errorf("the refused upgrade changed the cluster: %d revisions", len(h))
	}
}
