// Package helmstore reads Helm v3 release metadata straight from Helm's storage (Secrets named
// sh.helm.release.v1.<name>.v<revision>, labelled owner=helm) without linking Helm, so that
// kubectl-tpe stays free of it. Only the name, namespace, revision, status and chart
// name/version/appVersion are kept: values, manifests, hooks and notes are thrown away while
// decoding and never leave this package.
package helmstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Release is the metadata of one Helm release revision.
type Release struct {
	Name         string    `json:"name"`
	Namespace    string    `json:"namespace"`
	Revision     int       `json:"revision"`
	Status       string    `json:"status"`
	Chart        string    `json:"chart"`
	ChartVersion string    `json:"chartVersion"`
	AppVersion   string    `json:"appVersion,omitempty"`
	Updated      time.Time `json:"updated,omitzero"`
	Description  string    `json:"description,omitempty"`
}

// ChartString is "name-version" as `helm list` shows it.
func (r Release) ChartString() string { return r.Chart + "-" + r.ChartVersion }

// LabelSelector selects Helm v3's release Secrets.
const LabelSelector = "owner=helm"

// List reads every release revision in namespace with ONE list request and returns the latest
// revision of each release (as `helm list --all` shows), sorted by name.
func List(ctx context.Context, c kubernetes.Interface, namespace string) ([]Release, error) {
	all, err := ListAll(ctx, c, namespace)
	if err != nil {
		return nil, err
	}
	return Latest(all), nil
}

// ListAll reads every stored revision in namespace with one list request.
func ListAll(ctx context.Context, c kubernetes.Interface, namespace string) ([]Release, error) {
	secrets, err := c.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelSelector})
	if err != nil {
		return nil, fmt.Errorf("reading Helm releases (Secrets labelled %s) in namespace %s: %w", LabelSelector, namespace, err)
	}
	out := make([]Release, 0, len(secrets.Items))
	for i := range secrets.Items {
		s := &secrets.Items[i]
		if s.Type != "helm.sh/release.v1" && s.Labels["name"] == "" {
			continue
		}
		r, err := FromSecret(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Latest keeps the highest revision of each release name, sorted by name.
func Latest(all []Release) []Release {
	best := map[string]Release{}
	for _, r := range all {
		if b, ok := best[r.Name]; !ok || r.Revision > b.Revision {
			best[r.Name] = r
		}
	}
	out := make([]Release, 0, len(best))
	for _, r := range best {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FromSecret decodes the metadata of one release Secret.
func FromSecret(s *corev1.Secret) (Release, error) {
	r, err := Decode(s.Data["release"])
	if err != nil {
		return Release{}, fmt.Errorf("decoding Helm release secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	// The labels are authoritative for status (Helm updates them with the payload).
	if st := s.Labels["status"]; st != "" {
		r.Status = st
	}
	if r.Name == "" {
		r.Name = s.Labels["name"]
	}
	if r.Revision == 0 {
		r.Revision, _ = strconv.Atoi(s.Labels["version"])
	}
	if r.Namespace == "" {
		r.Namespace = s.Namespace
	}
	return r, nil
}

// stored mirrors only the fields of Helm's release JSON that are kept; encoding/json skips the
// others (config = values, manifest, hooks, chart templates/files/values) without keeping them.
type stored struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Version   int    `json:"version"`
	Info      struct {
		Status       string `json:"status"`
		Description  string `json:"description"`
		LastDeployed string `json:"last_deployed"`
	} `json:"info"`
	Chart struct {
		Metadata struct {
			Name       string `json:"name"`
			Version    string `json:"version"`
			AppVersion string `json:"appVersion"`
		} `json:"metadata"`
	} `json:"chart"`
}

var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// Decode decodes Helm's storage encoding: base64 of (optionally gzipped) JSON.
func Decode(data []byte) (Release, error) {
	if len(data) == 0 {
		return Release{}, fmt.Errorf("the secret has no release data")
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(data)))
	n, err := base64.StdEncoding.Decode(raw, data)
	if err != nil {
		return Release{}, fmt.Errorf("base64: %w", err)
	}
	raw = raw[:n]
	var rd io.Reader = bytes.NewReader(raw)
	if bytes.HasPrefix(raw, gzipMagic) {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return Release{}, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		rd = zr
	}
	var s stored
	if err := json.NewDecoder(rd).Decode(&s); err != nil {
		return Release{}, fmt.Errorf("json: %w", err)
	}
	r := Release{
		Name: s.Name, Namespace: s.Namespace, Revision: s.Version, Status: s.Info.Status,
		Chart: s.Chart.Metadata.Name, ChartVersion: s.Chart.Metadata.Version, AppVersion: s.Chart.Metadata.AppVersion,
		Description: s.Info.Description,
	}
	if t, err := time.Parse(time.RFC3339Nano, s.Info.LastDeployed); err == nil {
		r.Updated = t
	}
	return r, nil
}

// Encode is the inverse of Decode for tests and fixtures: it writes a release the way Helm v3
// stores it (JSON → gzip → base64), with the given values and manifest in it so that tests can
// check they are dropped.
func Encode(r Release, values map[string]any, manifest string) ([]byte, error) {
	doc := map[string]any{
		"name": r.Name, "namespace": r.Namespace, "version": r.Revision,
		"info":     map[string]any{"status": r.Status, "description": r.Description, "last_deployed": r.Updated.Format(time.RFC3339Nano)},
		"chart":    map[string]any{"metadata": map[string]any{"name": r.Chart, "version": r.ChartVersion, "appVersion": r.AppVersion}, "values": values},
		"config":   values,
		"manifest": manifest,
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(js); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return []byte(base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}

// Secret builds the Secret Helm v3 would store for r (for tests and fixtures).
func Secret(r Release, values map[string]any, manifest string) (*corev1.Secret, error) {
	data, err := Encode(r, values, manifest)
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("sh.helm.release.v1.%s.v%d", r.Name, r.Revision),
			Namespace: r.Namespace,
			Labels: map[string]string{"owner": "helm", "name": r.Name, "status": r.Status,
				"version": strconv.Itoa(r.Revision)},
		},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": data},
	}, nil
}
