// Package values loads the TPE values files an operator installs with (-f, deep-merged like Helm)
// and validates the parts preflight and `helm tpe install` both care about: the installation ID,
// the TLS certificate (tls.go) and the backup storage (backup.go). Both plugins call the same
// functions, so a values file is judged the same way before install and in preflight.
//
// Secret values (installation ID, private keys, backup credentials) never appear in messages.
package values

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
)

// Values is a merged values tree, as Helm sees it.
type Values map[string]any

// LoadContext reads and deep-merges the files in order (later files win, as with helm -f). A file
// that cannot be read or parsed is an error naming the file; a file over input.Values's cap is an
// input.TooLargeError. Reading ends when ctx is done.
func LoadContext(ctx context.Context, files []string) (Values, error) {
	out := Values{}
	for _, f := range files {
		data, err := input.ReadFile(ctx, input.Values, f)
		var tooLarge *input.TooLargeError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("reading values file %q: %w", f, err)
		}
		v, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("parsing values file %q: %w", f, err)
		}
		out = Merge(out, v)
	}
	return out, nil
}

// Parse parses one YAML values document. An empty document is an empty tree.
func Parse(data []byte) (Values, error) {
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// Merge deep-merges src into dst and returns dst: maps merge key by key, any other value in src
// replaces the one in dst, and a null in src deletes the key (Helm's coalescing rules).
func Merge(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, sIsMap := sv.(map[string]any)
		dm, dIsMap := dst[k].(map[string]any)
		if sIsMap && dIsMap {
			dst[k] = Merge(dm, sm)
			continue
		}
		if sIsMap {
			dst[k] = Merge(map[string]any{}, sm)
			continue
		}
		dst[k] = sv
	}
	return dst
}

// Get returns the value at a dotted path ("global.ingress.tls.key"). Keys may contain dashes
// ("ingress-nginx.controller").
func (v Values) Get(path string) (any, bool) {
	var cur any = map[string]any(v)
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// String returns the value at path as a string: strings as they are, numbers and booleans
// formatted, and "" for missing or structured values.
func (v Values) String(path string) string {
	x, ok := v.Get(path)
	if !ok || x == nil {
		return ""
	}
	switch t := x.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(t, 10)
	case int:
		return strconv.Itoa(t)
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

// Map returns the map at path, or nil.
func (v Values) Map(path string) map[string]any {
	x, _ := v.Get(path)
	m, _ := x.(map[string]any)
	return m
}

// Paths of the TPE keys (the vendor's values samples).
const (
	KeyInstallationID = "global.installationId"
	KeyDNSHostname    = "global.dnsHostname"
	KeyTLS            = "global.ingress.tls"
	KeySMTPServer     = "global.outgoingMail.smtpServer"
	KeySMTPPort       = "global.outgoingMail.port"
	KeyOIDCIssuer     = "global.oauthFederation.issuer"
	// KeyIngressClass is where the ingress-nginx subchart names its IngressClass.
	KeyIngressClass           = "ingress-nginx.controller.ingressClassResource.name"
	KeyIngressClassController = "ingress-nginx.controller.ingressClassResource.controllerValue"
)

// DefaultIngressClass and DefaultIngressController are what TPE uses when the values say nothing.
const (
	DefaultIngressClass      = "nginx-tpe"
	DefaultIngressController = "k8s.io/ingress-nginx"
)

// StorageClassKeys are the values keys that name StorageClasses (the vendor's
// examples/hosting/<cloud>/values-storage.yaml).
var StorageClassKeys = []string{
	"kafka-cluster.kafka.persistence.storageClass",
	"kafka-cluster.zookeeper.persistence.storageClass",
	"mongo-replicaset.persistence.storageClass",
	"zookeeper.persistence.storageClass",
	"mariadb-galera.persistence.storageClass",
	"lrc.persistence.storageClass",
	"lrc.persistence.ftpStorageClass",
	"node-red.persistence.storageClass",
}

// InstallationID returns global.installationId (a secret: never print it).
func (v Values) InstallationID() string { return strings.TrimSpace(v.String(KeyInstallationID)) }

// ImagePullSecrets returns the names of global.imagePullSecrets (a list of names or of {name}).
func (v Values) ImagePullSecrets() []string {
	raw, _ := v.Get("global.imagePullSecrets")
	list, _ := raw.([]any)
	var out []string
	for _, e := range list {
		switch x := e.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			if n, ok := x["name"].(string); ok {
				out = append(out, n)
			}
		}
	}
	return out
}

// DNSHostname returns global.dnsHostname.
func (v Values) DNSHostname() string { return v.String(KeyDNSHostname) }

// IngressClass returns the IngressClass name and controller the values ask for.
func (v Values) IngressClass() (name, controller string) {
	name, controller = v.String(KeyIngressClass), v.String(KeyIngressClassController)
	if name == "" {
		name = DefaultIngressClass
	}
	if controller == "" {
		controller = DefaultIngressController
	}
	return name, controller
}

// StorageClasses returns the StorageClass names the values set, keyed by values path.
func (v Values) StorageClasses() map[string]string {
	out := map[string]string{}
	for _, k := range StorageClassKeys {
		if s := v.String(k); s != "" {
			out[k] = s
		}
	}
	return out
}

// PriorityClassNames returns every priorityClassName set anywhere in the values, sorted, with
// the first path that sets it.
func (v Values) PriorityClassNames() map[string]string {
	out := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			switch t := m[k].(type) {
			case map[string]any:
				walk(p, t)
			case string:
				if k == "priorityClassName" && t != "" {
					if _, seen := out[t]; !seen {
						out[t] = p
					}
				}
			}
		}
	}
	walk("", v)
	return out
}

// CheckInstallationID judges global.installationId without ever printing it: it must be set, be
// one token, and not be a placeholder. The chart repository checks the value itself (probe).
func CheckInstallationID(v Values) check.Check {
	c := check.Check{ID: "values.installation-id", Category: "Values"}
	id := v.InstallationID()
	raw := v.String(KeyInstallationID)
	switch {
	case id == "":
		c.Status, c.Message = check.Fail, KeyInstallationID+" is not set (it is mandatory, provided by Actility)"
		c.Remediation = "set " + KeyInstallationID + " in your values file to the installation ID Actility gave you"
	case raw != id || strings.ContainsAny(id, " \t\r\n"):
		c.Status, c.Message = check.Fail, KeyInstallationID+" contains whitespace (value hidden)"
		c.Remediation = "remove the spaces or line breaks around " + KeyInstallationID
	case strings.HasPrefix(id, "<") || strings.Trim(id, "0") == "" || strings.EqualFold(id, "changeme"):
		c.Status, c.Message = check.Fail, KeyInstallationID+" is a placeholder, not a real installation ID (value hidden)"
		c.Remediation = "set " + KeyInstallationID + " to the installation ID Actility gave you"
	default:
		c.Status, c.Message = check.Pass, fmt.Sprintf("%s is set (%d characters, value hidden)", KeyInstallationID, len(id))
	}
	return c
}

// Checks runs every values check that preflight and `helm tpe install` share: the installation ID,
// the backup storage, and the TLS certificate of global.ingress.tls when the values give one.
// hostname overrides global.dnsHostname for the SAN check; a zero now means time.Now(). A TLS PEM
// that does not parse is returned as an error (bad input), never as a check.
func Checks(v Values, hostname string, now time.Time) ([]check.Check, error) {
	out := []check.Check{CheckInstallationID(v), CheckBackup(v)}
	if in, ok := TLSFromValues(v); ok {
		if hostname != "" {
			in.Hostname = hostname
		}
		in.Now = now
		tc, err := CheckTLS(in)
		if err != nil {
			return nil, err
		}
		out = append(out, tc...)
	}
	return out, nil
}
