package images

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

func TestFromManifest(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     map[string][]string
	}{
		{"containers and initContainers", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers:
      - {name: init, image: busybox:1.36}
      containers:
      - {name: web, image: "nginx:1.25"}
      - {name: side, image: quay.io/x/side@sha256:abc}
`, map[string][]string{"busybox:1.36": {"Deployment/web"}, "nginx:1.25": {"Deployment/web"}, "quay.io/x/side@sha256:abc": {"Deployment/web"}}},
		{"custom resources", `
apiVersion: kafka.strimzi.io/v1beta2
kind: Kafka
metadata: {name: kafka-cluster}
spec:
  kafka: {image: quay.io/strimzi/kafka:0.33.2-kafka-3.4.0, replicas: 3}
  zookeeper: {replicas: 3}
---
apiVersion: psmdb.percona.com/v1
kind: PerconaServerMongoDB
metadata: {name: mongo-replicaset}
spec:
  image: percona/percona-server-mongodb:5.0.14-12
`, map[string][]string{"quay.io/strimzi/kafka:0.33.2-kafka-3.4.0": {"Kafka/kafka-cluster"}, "percona/percona-server-mongodb:5.0.14-12": {"PerconaServerMongoDB/mongo-replicaset"}}},
		{"duplicates across objects", `
kind: Deployment
metadata: {name: b}
spec: {template: {spec: {containers: [{image: nginx}]}}}
---
kind: Deployment
metadata: {name: a}
spec: {template: {spec: {containers: [{image: nginx}, {image: nginx}]}}}
`, map[string][]string{"nginx": {"Deployment/a", "Deployment/b"}}},
		{"empty documents and comments", "---\n# Source: x/templates/empty.yaml\n---\n\n---\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{image: ' nginx '}]}\n---\n",
			map[string][]string{"nginx": {"Pod/p"}}},
		{"non-string image values are walked into, not listed", `
kind: Thing
metadata: {name: t}
spec:
  image: {repository: quay.io/x/y, tag: "1", image: inner:1}
  other: {image: 3}
  empty: {image: ""}
  list: [{image: null}]
`, map[string][]string{"inner:1": {"Thing/t"}}},
		{"nothing", "", map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromManifest(tt.manifest)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := FromManifest("kind: [unclosed"); err == nil {
		t.Error("a document that is not YAML: no error")
	}
}

func TestParseContainerManifest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"plain", "b:1\na:2\n", []string{"a:2", "b:1"}},
		{"CRLF, blanks, comments, duplicates", "# images of 7.3.1\r\n\r\nb:1\r\n  a:2  \r\nb:1 # again\r\n", []string{"a:2", "b:1"}},
		{"a leading Images: line and list dashes", "Images:\n- repository.thingpark.com/thingpark-kubernetes/twa:7\n- 'nginx'\n", []string{"nginx", "repository.thingpark.com/thingpark-kubernetes/twa:7"}},
		{"empty", "\n\n", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseContainerManifest([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct{ in, host, path, suffix, mirrored string }{
		{"nginx", "docker.io", "nginx", "", "m.example/tpe/nginx"},
		{"percona/x:1.2", "docker.io", "percona/x", ":1.2", "m.example/tpe/percona/x:1.2"},
		{"quay.io/strimzi/operator:0.33.2", "quay.io", "strimzi/operator", ":0.33.2", "m.example/tpe/strimzi/operator:0.33.2"},
		{"localhost:5000/a/b@sha256:ff", "localhost:5000", "a/b", "@sha256:ff", "m.example/tpe/a/b@sha256:ff"},
		{"registry.k8s.io/ingress-nginx/controller:v1.5.1@sha256:ff", "registry.k8s.io", "ingress-nginx/controller", ":v1.5.1@sha256:ff", "m.example/tpe/ingress-nginx/controller:v1.5.1@sha256:ff"},
	}
	for _, tt := range tests {
		r := parseRef(tt.in)
		if r.host != tt.host || r.path != tt.path || r.suffix != tt.suffix || r.in("m.example/tpe") != tt.mirrored {
			t.Errorf("%s: %+v → %s", tt.in, r, r.in("m.example/tpe"))
		}
	}
}

// memCharts is a charts.Source of in-memory charts.
type memCharts map[string]*chart.Chart

func (m memCharts) LoadChart(name, version string) (*chart.Chart, error) {
	if c, ok := m[name+" "+version]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("no chart %s %s", name, version)
}

func mkChart(name string, vals map[string]any, templates ...string) *chart.Chart {
	c := &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: name, Version: "1.0.0"}, Values: vals}
	for i, tpl := range templates {
		c.Templates = append(c.Templates, &chart.File{Name: fmt.Sprintf("templates/t%d.yaml", i), Data: []byte(tpl)})
	}
	return c
}

const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec: {template: {spec: {containers: [{name: c, image: %s}]}}}
`

// synthetic is a release of four charts that compose their images in the ways charts do.
func synthetic() (manifest.Release, memCharts) {
	rel := manifest.Release{Name: "v9.0.0", DataControllers: "1.0.0", Data: "1.0.0", ApplicationControllers: "1.0.0", Enterprise: "1.0.0"}
	src := memCharts{
		// image.registry/repository/name/tag, as the Strimzi operator chart.
		manifest.ChartDataControllers + " 1.0.0": mkChart(manifest.ChartDataControllers,
			map[string]any{"strimzi": map[string]any{"image": map[string]any{"registry": "quay.io", "repository": "strimzi", "name": "operator", "tag": "0.33.2"}}},
			fmt.Sprintf(deploy, "strimzi-cluster-operator", `{{ with .Values.strimzi.image }}{{ .registry }}/{{ .repository }}/{{ .name }}:{{ .tag }}{{ end }}`)),
		// A full reference in a custom resource; a hard-coded image with an unrelated registry key.
		manifest.ChartData + " 1.0.0": mkChart(manifest.ChartData,
			map[string]any{"kafka": map[string]any{"image": "quay.io/strimzi/kafka:0.33.2-kafka-3.4.0"}, "metrics": map[string]any{"image": map[string]any{"registry": "docker.io", "repository": "other/exporter"}}},
			"apiVersion: kafka.strimzi.io/v1beta2\nkind: Kafka\nmetadata: {name: kafka-cluster}\nspec: {kafka: {image: {{ .Values.kafka.image }}}}\n",
			fmt.Sprintf(deploy, "zookeeper", "bitnami/zookeeper:3.8.1")),
		// image.repository holding the host, as ingress-nginx.
		manifest.ChartApplicationControllers + " 1.0.0": mkChart(manifest.ChartApplicationControllers,
			map[string]any{"controller": map[string]any{"image": map[string]any{"repository": "registry.k8s.io/ingress-nginx/controller", "tag": "v1.5.1"}}},
			fmt.Sprintf(deploy, "ingress-nginx-controller", `{{ .Values.controller.image.repository }}:{{ .Values.controller.image.tag }}`)),
		// A global registry host, a hook, and one image that does not use it.
		manifest.ChartEnterprise + " 1.0.0": mkChart(manifest.ChartEnterprise,
			map[string]any{"global": map[string]any{"installationId": "", "repositories": map[string]any{"containerImagesRegistry": map[string]any{"fqdn": "repository.thingpark.com"}}},
				"fixture": map[string]any{"fail": false}},
			`{{ if .Values.fixture.fail }}{{ fail (printf "refusing installation ID %s" .Values.global.installationId) }}{{ end }}`+
				fmt.Sprintf(deploy, "twa", `{{ .Values.global.repositories.containerImagesRegistry.fqdn }}/thingpark-kubernetes/twa:7`),
			fmt.Sprintf(deploy, "lrc", `{{ .Values.global.repositories.containerImagesRegistry.fqdn }}/thingpark-kubernetes/lrc:7`),
			"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pum-process\n  annotations: {helm.sh/hook: post-upgrade}\nspec: {template: {spec: {containers: [{name: c, image: \"{{ .Values.global.repositories.containerImagesRegistry.fqdn }}/thingpark-kubernetes/post-upgrade:1.3.0-2\"}]}}}\n",
			fmt.Sprintf(deploy, "backup", "repository.thingpark.com/thingpark-kubernetes/tp-backup:0.2.4-1")),
	}
	return rel, src
}

func TestListAndRedirect(t *testing.T) {
	rel, src := synthetic()
	rep, err := List(context.Background(), Config{Release: rel, Charts: src, Namespace: "thingpark-enterprise", Registry: "mirror.example.com/tpe/"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bitnami/zookeeper:3.8.1",
		"quay.io/strimzi/kafka:0.33.2-kafka-3.4.0",
		"quay.io/strimzi/operator:0.33.2",
		"registry.k8s.io/ingress-nginx/controller:v1.5.1",
		"repository.thingpark.com/thingpark-kubernetes/lrc:7",
		"repository.thingpark.com/thingpark-kubernetes/post-upgrade:1.3.0-2",
		"repository.thingpark.com/thingpark-kubernetes/tp-backup:0.2.4-1",
		"repository.thingpark.com/thingpark-kubernetes/twa:7",
	}
	if !reflect.DeepEqual(rep.Names(), want) {
		t.Fatalf("images %q, want %q", rep.Names(), want)
	}
	if got := rep.Images[4]; !reflect.DeepEqual(got.Charts, []string{manifest.ChartEnterprise}) || !reflect.DeepEqual(got.Objects, []string{"Deployment/lrc"}) {
		t.Errorf("lrc: %+v", got)
	}
	if rep.Registry != "mirror.example.com/tpe" {
		t.Errorf("registry %q", rep.Registry)
	}
	wantKeys := []Key{
		{manifest.ChartDataControllers, "strimzi.image.registry", "mirror.example.com/tpe"},
		{manifest.ChartData, "kafka.image", "mirror.example.com/tpe/strimzi/kafka:0.33.2-kafka-3.4.0"},
		{manifest.ChartApplicationControllers, "controller.image.repository", "mirror.example.com/tpe/ingress-nginx/controller"},
		{manifest.ChartEnterprise, "global.repositories.containerImagesRegistry.fqdn", "mirror.example.com/tpe"},
	}
	if !reflect.DeepEqual(rep.Keys, wantKeys) {
		t.Errorf("keys\n%+v, want (metrics.image.registry, which changes nothing, dropped)\n%+v", rep.Keys, wantKeys)
	}
	wantNot := []string{"bitnami/zookeeper:3.8.1", "repository.thingpark.com/thingpark-kubernetes/tp-backup:0.2.4-1"}
	if !reflect.DeepEqual(rep.NotRedirected, wantNot) {
		t.Errorf("not redirected %q, want %q", rep.NotRedirected, wantNot)
	}
	kv := rep.KeysValues()
	if s, _ := getPath(kv, []string{"global", "repositories", "containerImagesRegistry", "fqdn"}); s != "mirror.example.com/tpe" {
		t.Errorf("keys as values: %v", kv)
	}
	if rep.Vendor != nil {
		t.Error("a comparison without a vendor list")
	}
}

func TestListComparesWithVendor(t *testing.T) {
	rel, src := synthetic()
	vendor := ParseContainerManifest([]byte("bitnami/zookeeper:3.8.1\nquay.io/strimzi/kafka:0.33.2-kafka-3.4.0\nquay.io/strimzi/operator:0.33.2\nregistry.k8s.io/ingress-nginx/controller:v1.5.1\n" +
		"repository.thingpark.com/thingpark-kubernetes/lrc:7\nrepository.thingpark.com/thingpark-kubernetes/post-upgrade:1.3.0-2\nrepository.thingpark.com/thingpark-kubernetes/twa:7\nrepository.thingpark.com/thingpark-kubernetes/smp-tpe:7\n"))
	rep, err := List(context.Background(), Config{Release: rel, Charts: src, Vendor: vendor, VendorSource: "container-manifest.txt"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Comparison{Source: "container-manifest.txt", OnlyRendered: []string{"repository.thingpark.com/thingpark-kubernetes/tp-backup:0.2.4-1"},
		OnlyVendor: []string{"repository.thingpark.com/thingpark-kubernetes/smp-tpe:7"}}
	if !reflect.DeepEqual(rep.Vendor, want) {
		t.Errorf("comparison %+v, want %+v", rep.Vendor, want)
	}
	if rep.Keys != nil || rep.NotRedirected != nil || rep.Registry != "" {
		t.Errorf("redirection without --registry: %+v", rep)
	}
	if c := Compare([]string{"a"}, []string{"a"}, "x"); !c.Same {
		t.Error("same lists differ")
	}
}

func TestListErrorsHideSecrets(t *testing.T) {
	rel, src := synthetic()
	id := "a1b2c3d4e5f6a7b8c9d0"
	_, err := List(context.Background(), Config{Release: rel, Charts: src,
		Values: map[string]any{"global": map[string]any{"installationId": id}, "fixture": map[string]any{"fail": true}}})
	if err == nil || !strings.Contains(err.Error(), "refusing installation ID") {
		t.Fatalf("err = %v, want the chart's failure", err)
	}
	if strings.Contains(err.Error(), id) {
		t.Errorf("the error holds the installation ID: %v", err)
	}
	rel.Enterprise = "2.0.0"
	if _, err := List(context.Background(), Config{Release: rel, Charts: src}); err == nil || !strings.Contains(err.Error(), "no chart thingpark-enterprise 2.0.0") {
		t.Errorf("a missing chart: %v", err)
	}
}

// A subchart's image map is found under the subchart's key, and the globals coalescing copies into
// the subchart are proposed once, at the top.
func TestRedirectSubchart(t *testing.T) {
	sub := mkChart("strimzi", map[string]any{"image": map[string]any{"registry": "quay.io", "repository": "strimzi", "name": "operator", "tag": "0.33.2"}},
		fmt.Sprintf(deploy, "strimzi-cluster-operator", `{{ .Values.image.registry }}/{{ .Values.image.repository }}/{{ .Values.image.name }}:{{ .Values.image.tag }}`))
	parent := mkChart(manifest.ChartDataControllers, map[string]any{"global": map[string]any{"registry": "docker.io"}},
		fmt.Sprintf(deploy, "psmdb-operator", `{{ .Values.global.registry }}/percona/percona-server-mongodb-operator:1.13.0`))
	parent.Metadata.Dependencies = []*chart.Dependency{{Name: "strimzi", Version: "1.0.0", Alias: "strimzi-kafka-operator"}}
	parent.AddDependency(sub)
	rel := manifest.Release{Name: "v9.0.0", DataControllers: "1.0.0"}
	rep, err := List(context.Background(), Config{Release: rel, Charts: memCharts{manifest.ChartDataControllers + " 1.0.0": parent}, Registry: "m.example"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Key{
		{manifest.ChartDataControllers, "global.registry", "m.example"},
		{manifest.ChartDataControllers, "strimzi-kafka-operator.image.registry", "m.example"},
	}
	if !reflect.DeepEqual(rep.Keys, want) || rep.NotRedirected != nil {
		t.Errorf("keys %+v, not redirected %q; want %+v and none", rep.Keys, rep.NotRedirected, want)
	}
}
