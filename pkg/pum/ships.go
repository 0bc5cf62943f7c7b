package pum

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
)

// NotShippedError says that the namespace runs no post-upgrade manager: deploy/pum does not
// exist. Either TPE is not installed there, or the installed release ships none; there is then
// no post-upgrade procedure to show, restart or wait for.
type NotShippedError struct {
	Namespace string
	// Installed is the installed thingpark-enterprise chart ("thingpark-enterprise-2.0.0"), when
	// known (see Explain).
	Installed string
	// Releases are the TPE releases whose charts are installed, when known.
	Releases []string

	err error // the exec error it replaces
}

// Error implements error.
func (e *NotShippedError) Error() string {
	if e.Installed == "" {
		return fmt.Sprintf("no post-upgrade manager in namespace %s: deploy/%s does not exist (TPE is not installed there, or its release ships no post-upgrade manager; `{cmd:status}` shows what is installed)",
			e.Namespace, Deployment)
	}
	what := e.Installed
	if len(e.Releases) > 0 {
		what = "TPE " + strings.Join(e.Releases, " / ") + " (" + e.Installed + ")"
	}
	return fmt.Sprintf("the release installed in namespace %s, %s, has no post-upgrade manager: deploy/%s does not exist, so there is no post-upgrade procedure to show, restart or wait for",
		e.Namespace, what, Deployment)
}

// Unwrap returns the exec error (a *podexec.NoReadyPodError).
func (e *NotShippedError) Unwrap() error { return e.err }

// notShipped turns the exec error "the deployment does not exist" into a *NotShippedError.
func notShipped(err error, namespace string) *NotShippedError {
	var np *podexec.NoReadyPodError
	if errors.As(err, &np) && np.Missing {
		return &NotShippedError{Namespace: namespace, err: err}
	}
	return nil
}

// Explain completes a *NotShippedError in err with the thingpark-enterprise chart installed in its
// namespace (read from Helm's release Secrets, helm-free) and the releases of the matrix m whose
// charts are installed. Other errors, and any failure to read, leave err as it is.
func Explain(ctx context.Context, c kubernetes.Interface, m *manifest.Matrix, err error) error {
	var ns *NotShippedError
	if c == nil || !errors.As(err, &ns) {
		return err
	}
	rels, lerr := helmstore.List(ctx, c, ns.Namespace)
	if lerr != nil {
		return err
	}
	installed := map[string]manifest.ChartRef{}
	for _, r := range rels {
		installed[r.Name] = manifest.ChartRef{ReleaseName: r.Name, Chart: r.Chart, Version: r.ChartVersion}
		if r.Chart == manifest.ChartEnterprise {
			ns.Installed = r.ChartString()
		}
	}
	if m != nil && ns.Installed != "" {
		for _, r := range m.Match(installed) {
			ns.Releases = append(ns.Releases, r.Name)
		}
	}
	return err
}

// ShipsManager reports whether rendered manifests (Helm's manifest of the thingpark-enterprise
// chart: YAML documents separated by "---") hold the post-upgrade manager, a Deployment named
// pum. The upgrade reads it from the target release's rendered chart to decide whether there is a
// post-upgrade procedure to wait for.
func ShipsManager(rendered string) bool {
	for _, doc := range splitDocuments(rendered) {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			continue // not an object (a comment-only or broken document)
		}
		if obj.Kind == "Deployment" && obj.Metadata.Name == Deployment {
			return true
		}
	}
	return false
}

// splitDocuments splits a YAML stream on lines that are exactly "---" (optionally followed by a
// comment or spaces), as Helm writes manifests.
func splitDocuments(s string) []string {
	var docs []string
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if t := strings.TrimRight(line, " \t\r"); t == "---" || strings.HasPrefix(t, "--- ") || strings.HasPrefix(t, "---\t") {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	return append(docs, cur.String())
}
