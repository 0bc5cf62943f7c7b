package diff

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

const (
	id     = "id-0123456789abcdef"
	oldKey = "AKIA-OLD-ACCESS-KEY"
	newKey = "AKIA-NEW-ACCESS-KEY"
)

// spread is a chart's ConfigMap and Deployment that copy the installation ID and the access key
// into data, an annotation, an env value and an argument.
func spread(version, key string) string {
	return `---
# Source: tpe/templates/spread.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: spread
  annotations:
    tpe/repo: "https://` + id + `:` + id + `@repo/charts"
data:
  version: "` + version + `"
  installationId: ` + id + `
  backup.conf: |
    access_key = ` + key + `
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: twa
spec:
  template:
    spec:
      containers:
      - name: twa
        args: ["--installation-id=` + id + `", "--access-key", "` + key + `"]
        env:
        - {name: ACCESS_KEY, value: "` + key + `"}
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  installationId: ` + base64.StdEncoding.EncodeToString([]byte(id)) + `
  accessKey: ` + base64.StdEncoding.EncodeToString([]byte(key)) + `
stringData:
  version: "` + version + `"
`
}

func redactor() *redact.Redactor {
	return redact.NewTagged([]redact.Secret{{Path: "global.installationId", Value: id},
		{Path: "global.backup.amazon.accessKey", Value: oldKey}, {Path: "global.backup.amazon.accessKey", Value: newKey}})
}

func TestManifestsMasksValuesAndStaysDiffable(t *testing.T) {
	tests := []struct {
		name       string
		old, new   string
		opts       Options
		objects    []Change
		want       []string // lines that must be in the diff
		not        []string // text that must not
		added, chg int
	}{
		{
			name: "same secrets, new version: the secret lines are unchanged context",
			old:  spread("1.0", oldKey), new: spread("2.0", oldKey), opts: Options{Redactor: redactor()},
			objects: []Change{{"ConfigMap spread", Changed}, {"Secret creds", Changed}},
			want:    []string{`-  version: "1.0"`, `+  version: "2.0"`, "<redacted global.installationId #", "version: 'REDACTED # changed (3 bytes, was 3)'"},
			not:     []string{id, oldKey, "-  installationId", "+  installationId"}, chg: 2,
		},
		{
			name: "a rotated key shows as a changed line, without either value",
			old:  spread("1.0", oldKey), new: spread("1.0", newKey), opts: Options{Redactor: redactor()},
			objects: []Change{{"ConfigMap spread", Changed}, {"Deployment twa", Changed}, {"Secret creds", Changed}},
			want:    []string{"-    access_key = <redacted global.backup.amazon.accessKey #", "+    access_key = <redacted global.backup.amazon.accessKey #", "-        - {name: ACCESS_KEY, value: \"<redacted", "REDACTED # changed (19 bytes, was 19)", "REDACTED # unchanged"},
			not:     []string{id, oldKey, newKey}, chg: 3,
		},
		{
			name: "fresh install: every object added, Secret keys added",
			old:  "", new: spread("1.0", oldKey), opts: Options{Redactor: redactor()},
			objects: []Change{{"ConfigMap spread", Added}, {"Deployment twa", Added}, {"Secret creds", Added}},
			want:    []string{"+  accessKey: 'REDACTED # added (19 bytes)'", "+    tpe/repo: \"https://<redacted global.installationId #"},
			not:     []string{id, oldKey, base64.StdEncoding.EncodeToString([]byte(id))}, added: 3,
		},
		{
			name: "--show-secrets shows everything as rendered",
			old:  spread("1.0", oldKey), new: spread("1.0", newKey), opts: Options{Redactor: redactor(), ShowSecrets: true},
			objects: []Change{{"ConfigMap spread", Changed}, {"Deployment twa", Changed}, {"Secret creds", Changed}},
			want:    []string{"-    access_key = " + oldKey, "+    access_key = " + newKey, "+  accessKey: " + base64.StdEncoding.EncodeToString([]byte(newKey))}, chg: 3,
		},
		{
			name: "no redactor: Secret data still hidden",
			old:  spread("1.0", oldKey), new: spread("1.0", newKey),
			objects: []Change{{"ConfigMap spread", Changed}, {"Deployment twa", Changed}, {"Secret creds", Changed}},
			want:    []string{"REDACTED # changed"}, not: []string{base64.StdEncoding.EncodeToString([]byte(newKey))}, chg: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Manifests(tt.old, tt.new, tt.opts)
			if d.Added != tt.added || d.Changed != tt.chg || d.Removed != 0 {
				t.Errorf("added %d changed %d removed %d, want %d %d 0", d.Added, d.Changed, d.Removed, tt.added, tt.chg)
			}
			if len(d.Objects) != len(tt.objects) {
				t.Errorf("objects %v, want %v", d.Objects, tt.objects)
			} else {
				for i := range tt.objects {
					if d.Objects[i] != tt.objects[i] {
						t.Errorf("object %d = %v, want %v", i, d.Objects[i], tt.objects[i])
					}
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(d.Text, w) {
					t.Errorf("missing %q in:\n%s", w, d.Text)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(d.Text, n) {
					t.Errorf("%q shown in:\n%s", n, d.Text)
				}
			}
		})
	}
}

func TestHideSecretData(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name     string
		old, new string
		wantOld  []string
		wantNew  []string
	}{
		{"data: changed, unchanged, added, removed",
			"kind: Secret\ndata:\n  a: " + b64("same") + "\n  b: " + b64("old-value") + "\n  gone: " + b64("x") + "\n",
			"kind: Secret\ndata:\n  a: " + b64("same") + "\n  b: " + b64("new-value!") + "\n  new: " + b64("yy") + "\n",
			[]string{"a: 'REDACTED # unchanged (4 bytes)'", "b: 'REDACTED # changed (9 bytes, now 10)'", "gone: 'REDACTED # removed (1 bytes)'"},
			[]string{"a: 'REDACTED # unchanged (4 bytes)'", "b: 'REDACTED # changed (10 bytes, was 9)'", "new: 'REDACTED # added (2 bytes)'"}},
		{"stringData compared with data, decoded",
			"kind: Secret\ndata:\n  pw: " + b64("hunter22") + "\n", "kind: Secret\nstringData:\n  pw: hunter22\n",
			[]string{"pw: 'REDACTED # unchanged (8 bytes)'"}, []string{"pw: 'REDACTED # unchanged (8 bytes)'"}},
		{"new Secret", "", "kind: Secret\nstringData:\n  pw: hunter22\n", nil, []string{"pw: 'REDACTED # added (8 bytes)'"}},
		{"last-applied annotation hidden",
			"kind: Secret\nmetadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"pw\":\"aHVudGVyMjI=\"}}'\ndata:\n  pw: aHVudGVyMjI=\n", "",
			[]string{"last-applied-configuration: REDACTED", "pw: 'REDACTED # removed (8 bytes)'"}, nil},
		{"does not parse", "kind: Secret\ndata: [oops\n", "", []string{"# Secret (content hidden: it does not parse)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := HideSecretData(tt.old, tt.new)
			for _, w := range tt.wantOld {
				if !strings.Contains(a, w) {
					t.Errorf("old side lacks %q:\n%s", w, a)
				}
			}
			for _, w := range tt.wantNew {
				if !strings.Contains(b, w) {
					t.Errorf("new side lacks %q:\n%s", w, b)
				}
			}
			for _, s := range []string{"hunter22", "aHVudGVyMjI=", "old-value", b64("old-value"), b64("new-value!")} {
				if strings.Contains(a+b, s) {
					t.Errorf("%q shown:\n%s\n%s", s, a, b)
				}
			}
		})
	}
}
