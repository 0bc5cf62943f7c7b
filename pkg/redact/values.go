package redact

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Secret is a value to hide and the values key it came from ("global.installationId").
type Secret struct {
	Path  string
	Value string
}

// MinLen is the length under which a value found under a secret-named key is not collected: a
// shorter value ("yes", "on") would be replaced everywhere it appears and garble the output, and
// hides nothing worth hiding.
const MinLen = 4

// knownPaths are values keys whose string is a secret whatever their name says: the installation
// ID (the password of the vendor's chart repository) and the backup storage identities that the
// values package treats as credentials.
var knownPaths = []string{
	"global.installationId",
	"global.ingress.tls.key",
	"global.backup.azure.tenantId",
	"global.backup.azure.clientId",
	"backup.azure.tenantId",
	"backup.azure.clientId",
}

// secretWords are the words that make a key name a secret (compared lower-case, without "-", "_"
// and "."): "password", "rootPassword", "secretAccessKey", "apiToken", "clientSecret", ...
var secretWords = []string{"password", "passwd", "passphrase", "secret", "token", "credential",
	"accesskey", "apikey", "privatekey", "signingkey", "encryptionkey", "installationid", "pwd"}

// notSecretSuffixes mark keys that name or configure a secret without holding one
// ("existingSecret", "secretName", "passwordSecretRef", "tokenTTL", "imagePullSecrets").
var notSecretSuffixes = []string{"name", "names", "ref", "refs", "selector", "path", "file", "dir",
	"enabled", "enable", "create", "ttl", "expiry", "expiration", "lifetime", "policy", "length",
	"type", "kind", "format", "algorithm", "mount", "mountpath", "header", "url", "endpoint",
	"imagepullsecrets", "publickey"}

func normKey(k string) string {
	return strings.NewReplacer("-", "", "_", "", ".", "").Replace(strings.ToLower(k))
}

// IsSecretKey reports whether a values key names a secret: a password, secret, token, credential,
// access/API/private key or the installation ID; parent is the key of the enclosing map ("tls"),
// which decides for a bare "key" (key material under tls/ssl/cert/ssh/private, a toleration's
// "key" elsewhere). Keys that name or configure a secret ("secretName", "existingSecret",
// "passwordSecretRef", "tokenTTL", "imagePullSecrets") are not secrets.
func IsSecretKey(parent, key string) bool {
	k := normKey(key)
	if strings.HasPrefix(k, "existing") {
		return false
	}
	for _, s := range notSecretSuffixes {
		if strings.HasSuffix(k, s) {
			return false
		}
	}
	if k == "pass" || k == "pw" {
		return true
	}
	if k == "key" || k == "keydata" || k == "keypem" || k == "tlskey" || k == "sslkey" || k == "sshkey" {
		p := normKey(parent)
		for _, w := range []string{"tls", "ssl", "cert", "ssh", "private", "pem", "x509"} {
			if strings.Contains(p, w) {
				return true
			}
		}
		return k != "key"
	}
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	// "accessKey"-like names are caught above; a key ending in "key" with a secret-ish prefix
	// ("s3Key", "storageKey", "masterKey") is key material too.
	return strings.HasSuffix(k, "key") && len(k) > 3 && !strings.HasSuffix(k, "publickey") &&
		(strings.HasPrefix(k, "s3") || strings.HasPrefix(k, "storage") || strings.HasPrefix(k, "master") ||
			strings.HasPrefix(k, "account") || strings.HasPrefix(k, "shared") || strings.HasPrefix(k, "license"))
}

// FromValues collects the secrets of a values tree: the known paths (installation ID, TLS key,
// Azure backup identities) and every string or number under a key IsSecretKey names, at any
// depth, in maps and lists; everything below a secret key (a "credentials" map, a list of
// "passwords") is secret too. Values shorter than MinLen are skipped. The result is sorted by
// path, one entry per distinct value (the first path that holds it).
func FromValues(v map[string]any) []Secret {
	var out []Secret
	var walk func(path, parent, key string, x any, secret bool)
	walk = func(path, parent, key string, x any, secret bool) {
		if key != "" && !secret {
			secret = IsSecretKey(parent, key)
			for _, p := range knownPaths {
				secret = secret || path == p
			}
		}
		switch t := x.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, key, k, t[k], secret)
			}
		case []any:
			for i, e := range t {
				walk(fmt.Sprintf("%s[%d]", path, i), parent, key, e, secret)
			}
		default:
			if !secret {
				return
			}
			if s := scalar(t); len(strings.TrimSpace(s)) >= MinLen {
				out = append(out, Secret{Path: path, Value: s})
			}
		}
	}
	walk("", "", "", v, false)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return dedup(out)
}

func scalar(x any) string {
	switch t := x.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	}
	return ""
}

func dedup(in []Secret) []Secret {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if s.Value == "" || seen[s.Value] {
			continue
		}
		seen[s.Value] = true
		out = append(out, s)
	}
	return out
}

// Strings returns the values of secrets (for New or a list of secrets to hide).
func Strings(secrets []Secret) []string {
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		out = append(out, s.Value)
	}
	return out
}
