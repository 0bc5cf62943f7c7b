package helmstore

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func rel(name string, rev int, status, chart, version string) Release {
	return Release{Name: name, Namespace: "tpe", Revision: rev, Status: status, Chart: chart, ChartVersion: version,
		AppVersion: "7.3.1", Updated: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
}

func TestListKeepsLatestAndDropsValues(t *testing.T) {
	values := map[string]any{"global": map[string]any{"installationId": "SECRET-ID-123"}}
	var objs []runtime.Object
	for _, r := range []Release{
		rel("tpe", 1, "superseded", "thingpark-enterprise", "1.2.25"),
		rel("tpe", 2, "deployed", "thingpark-enterprise", "1.4.1"),
		rel("tpe-data", 1, "failed", "thingpark-data", "1.3.5"),
	} {
		s, err := Secret(r, values, "kind: Secret\ndata: {password: SECRET-ID-123}")
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, s)
	}
	objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "unrelated", Namespace: "tpe"}})
	c := fake.NewClientset(objs...)
	got, err := List(t.Context(), c, "tpe")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "tpe" || got[0].Revision != 2 || got[0].ChartVersion != "1.4.1" || got[0].Status != "deployed" ||
		got[1].Name != "tpe-data" || got[1].Status != "failed" || got[0].ChartString() != "thingpark-enterprise-1.4.1" || got[0].AppVersion != "7.3.1" {
		t.Fatalf("List = %+v", got)
	}
	js, _ := json.Marshal(got)
	if strings.Contains(string(js), "SECRET-ID-123") {
		t.Errorf("values leaked: %s", js)
	}
	lists := 0
	for _, a := range c.Actions() {
		if a.GetVerb() == "list" {
			lists++
			if sel := a.(k8stesting.ListAction).GetListRestrictions().Labels.String(); sel != "owner=helm" {
				t.Errorf("selector %q", sel)
			}
		}
	}
	if len(c.Actions()) != 1 || lists != 1 {
		t.Errorf("%d requests, want one list", len(c.Actions()))
	}
}

func TestDecode(t *testing.T) {
	plain := base64.StdEncoding.EncodeToString([]byte(`{"name":"x","version":3,"info":{"status":"deployed"},"chart":{"metadata":{"name":"c","version":"1.0.0"}},"config":{"a":1}}`))
	tests := []struct {
		name    string
		data    string
		want    string
		wantErr string
	}{
		{"uncompressed json", plain, "x 3 deployed c-1.0.0", ""},
		{"empty", "", "", "no release data"},
		{"not base64", "%%%", "", "base64"},
		{"not json", base64.StdEncoding.EncodeToString([]byte("nope")), "", "json"},
		{"bad gzip", base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 0x08, 0, 1}), "", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Decode([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Name + " " + itoa(r.Revision) + " " + r.Status + " " + r.ChartString(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestCorruptSecretNamesIt(t *testing.T) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.tpe.v1", Namespace: "tpe", Labels: map[string]string{"owner": "helm", "name": "tpe"}},
		Type: "helm.sh/release.v1", Data: map[string][]byte{"release": []byte("garbage!")}}
	_, err := List(t.Context(), fake.NewClientset(s), "tpe")
	if err == nil || !strings.Contains(err.Error(), "tpe/sh.helm.release.v1.tpe.v1") {
		t.Fatalf("err = %v", err)
	}
}
