package chartrepo

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
)

const (
	chartsDir   = "../../testdata/charts"
	releasesDir = "../../testdata/releases"
)

func TestServer(t *testing.T) {
	faults := &Faults{}
	var logged bytes.Buffer
	h, err := New(Config{ChartsDir: chartsDir, ReleasesDir: releasesDir, InstallationID: "s3cr3t-id", Faults: faults,
		Logf: func(f string, a ...any) { logged.WriteString(strings.TrimSpace(f) + "\n") }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path, user, pass string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	tests := []struct {
		name, path, user, pass string
		fault                  Fault
		want                   int
	}{
		{"no credentials", "/charts/index.yaml", "", "", FaultNone, 401},
		{"wrong password", "/charts/index.yaml", "s3cr3t-id", "nope", FaultNone, 401},
		{"wrong user", "/charts/index.yaml", "nope", "s3cr3t-id", FaultNone, 401},
		{"index", "/charts/index.yaml", "s3cr3t-id", "s3cr3t-id", FaultNone, 200},
		{"chart", "/charts/thingpark-data-1.2.5.tgz", "s3cr3t-id", "s3cr3t-id", FaultNone, 200},
		{"unknown chart", "/charts/thingpark-data-9.9.9.tgz", "s3cr3t-id", "s3cr3t-id", FaultNone, 404},
		{"versions", "/releases/v7.3.1/VERSIONS", "s3cr3t-id", "s3cr3t-id", FaultNone, 200},
		{"fault 404", "/charts/index.yaml", "s3cr3t-id", "s3cr3t-id", FaultNotFound, 404},
		{"fault 500", "/charts/index.yaml", "s3cr3t-id", "s3cr3t-id", FaultServerError, 500},
		{"fault needs auth first", "/charts/index.yaml", "x", "x", FaultServerError, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			faults.Set(tc.fault)
			defer faults.Set(FaultNone)
			if code, body := get(tc.path, tc.user, tc.pass); code != tc.want {
				t.Fatalf("GET %s: got %d, want %d: %s", tc.path, code, tc.want, body)
			}
		})
	}
	_, full := get("/charts/index.yaml", "s3cr3t-id", "s3cr3t-id")
	faults.Set(FaultTruncatedIndex)
	_, cut := get("/charts/index.yaml", "s3cr3t-id", "s3cr3t-id")
	faults.Set(FaultNone)
	if len(cut) != len(full)/2 {
		t.Errorf("truncated index has %d bytes, want %d", len(cut), len(full)/2)
	}
	var idx repo.IndexFile
	if err := yaml.Unmarshal(full, &idx); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"thingpark-data-controllers":        {"1.0.3", "1.1.1", "1.2.4"},
		"thingpark-data":                    {"1.1.2", "1.2.5", "1.3.5"},
		"thingpark-enterprise-controllers":  {"1.0.3"},
		"thingpark-application-controllers": {"1.1.6", "1.2.4"},
		"thingpark-enterprise":              {"1.1.7", "1.2.25", "1.4.1"},
	}
	for name, versions := range want {
		for _, v := range versions {
			if !idx.Has(name, v) {
				t.Errorf("index lacks %s %s", name, v)
			}
		}
	}
	if len(idx.Entries) != len(want) {
		t.Errorf("index has %d charts, want %d", len(idx.Entries), len(want))
	}
	if strings.Contains(logged.String(), "s3cr3t-id") {
		t.Errorf("the installation ID was logged")
	}
}

func TestNewNeedsID(t *testing.T) {
	if _, err := New(Config{ChartsDir: chartsDir, ReleasesDir: releasesDir}); err == nil {
		t.Fatal("New without an installation ID: want an error")
	}
}

// TestFixtureCharts renders every packaged chart the way helm install does, with and without the knobs.
func TestFixtureCharts(t *testing.T) {
	files, charts, err := Package(chartsDir, releasesDir)
	if err != nil {
		t.Fatal(err)
	}
	render := func(t *testing.T, file string, vals map[string]any) (map[string]string, error) {
		ch, err := loader.LoadArchive(bytes.NewReader(files[file]))
		if err != nil {
			t.Fatal(err)
		}
		if err := chartutil.ProcessDependencies(ch, vals); err != nil {
			t.Fatal(err)
		}
		v, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "tpe", Namespace: "thingpark-enterprise", Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
		if err != nil {
			return nil, err
		}
		return engine.Render(ch, v)
	}
	base := map[string]any{"global": map[string]any{"installationId": "abc"}}
	for _, c := range charts {
		t.Run(c.File, func(t *testing.T) {
			out, err := render(t, c.File, base)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			all := ""
			for _, s := range out {
				all += s
			}
			if c.Name == "thingpark-data" && !strings.Contains(all, "priorityClassName: thingpark-datapath") {
				t.Errorf("thingpark-data does not use the documented PriorityClass thingpark-datapath")
			}
			if c.Name == "thingpark-enterprise" && !strings.Contains(all, "name: tpe-release-info") {
				t.Errorf("thingpark-enterprise renders no tpe-release-info")
			}
			if _, err := render(t, c.File, map[string]any{"global": map[string]any{"installationId": "abc"}, "fixture": map[string]any{"failRender": true}}); err == nil || !strings.Contains(err.Error(), "failRender") {
				t.Errorf("fixture.failRender: got %v, want a render error", err)
			}
			if c.Name == "thingpark-enterprise" {
				if _, err := render(t, c.File, map[string]any{}); err == nil || !strings.Contains(err.Error(), "global.installationId is required") {
					t.Errorf("no installationId: got %v, want a required error", err)
				}
			}
		})
	}
}

// TestSchemaOnlyFrom73 checks the values schema arrives with thingpark-enterprise 1.4.0 (TPE 7.3) and
// rejects 7.2-style values.
func TestSchemaOnlyFrom73(t *testing.T) {
	files, _, err := Package(chartsDir, releasesDir)
	if err != nil {
		t.Fatal(err)
	}
	old72 := map[string]any{"global": map[string]any{
		"installationId": "abc",
		"lora":           map[string]any{"ismBand": "eu868"},
		"backup":         map[string]any{"schedule": "30 2 * * *", "s3Compat": map[string]any{"secretKey": "x"}},
	}}
	for file, wantErr := range map[string]bool{"thingpark-enterprise-1.2.25.tgz": false, "thingpark-enterprise-1.4.1.tgz": true} {
		ch, err := loader.LoadArchive(bytes.NewReader(files[file]))
		if err != nil {
			t.Fatal(err)
		}
		if (ch.Schema != nil) != wantErr {
			t.Errorf("%s: schema present = %v", file, ch.Schema != nil)
		}
		vals, err := chartutil.CoalesceValues(ch, old72)
		if err != nil {
			t.Fatal(err)
		}
		err = chartutil.ValidateAgainstSchema(ch, vals)
		if (err != nil) != wantErr {
			t.Errorf("%s: validating 7.2-style values: err = %v, want error %v", file, err, wantErr)
		}
	}
}

// TestFixtureShape80 checks the 8.0 charts (TPE 8.0.0: thingpark-data 2.2.2, thingpark-enterprise
// 2.0.0) are served and shaped as the 8.0 layout: Kafka as a StrimziPodSet, the post-upgrade
// manager still deploy/pum (pum-server image); and that v7.3.6's charts are served.
func TestFixtureShape80(t *testing.T) {
	files, _, err := Package(chartsDir, releasesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"thingpark-data-controllers-1.5.0.tgz", "thingpark-data-1.6.0.tgz", "thingpark-application-controllers-1.5.0.tgz", "thingpark-enterprise-1.7.6.tgz",
		"thingpark-data-controllers-2.2.1.tgz", "thingpark-data-2.2.2.tgz", "thingpark-application-controllers-2.2.0.tgz", "thingpark-enterprise-2.0.0.tgz"} {
		if files[f] == nil {
			t.Errorf("%s is not served", f)
		}
	}
	render := func(file string) string {
		ch, err := loader.LoadArchive(bytes.NewReader(files[file]))
		if err != nil {
			t.Fatal(err)
		}
		vals := map[string]any{"global": map[string]any{"installationId": "abc"}}
		v, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "tpe", Namespace: "thingpark-enterprise", Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
		if err != nil {
			t.Fatal(err)
		}
		out, err := engine.Render(ch, v)
		if err != nil {
			t.Fatal(err)
		}
		all := ""
		for _, s := range out {
			all += "---\n" + s
		}
		return all
	}
	data80, data73 := render("thingpark-data-2.2.2.tgz"), render("thingpark-data-1.6.0.tgz")
	// 8.0: the chart renders the Kafka resource (the Strimzi operator runs it as a StrimziPodSet)
	if !strings.Contains(data80, "kind: Kafka\nmetadata:\n  name: kafka-cluster") || strings.Contains(data80, "kind: StatefulSet\nmetadata:\n  name: kafka-cluster-kafka") {
		t.Errorf("8.0 Kafka is not a Kafka resource (or is still a StatefulSet):\n%s", data80)
	}
	if !strings.Contains(data73, "kind: StatefulSet\nmetadata:\n  name: kafka-cluster-kafka") {
		t.Errorf("7.3 Kafka is not a StatefulSet")
	}
	tpe80 := render("thingpark-enterprise-2.0.0.tgz")
	if !pum.ShipsManager(tpe80) || !strings.Contains(tpe80, "pum-server:1.5.2-1") || !strings.Contains(tpe80, "tpe-controller:1.2.3") {
		t.Errorf("thingpark-enterprise 2.0.0 lacks deploy/pum (pum-server) or tpe-controller 1.2.3")
	}
	if !pum.ShipsManager(render("thingpark-enterprise-1.7.6.tgz")) {
		t.Errorf("thingpark-enterprise 1.7.6 lacks deploy/pum")
	}
	if ops := render("thingpark-data-controllers-2.2.1.tgz"); !strings.Contains(ops, "strimzi/operator:0.44.0") || !strings.Contains(ops, "server-mongodb-operator:1.17.0") {
		t.Errorf("8.0 operators:\n%s", ops)
	}
}
