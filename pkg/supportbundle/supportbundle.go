// Package supportbundle collects what the vendor's support asks for when an upgrade goes wrong into one
// .tar.gz: preflight and status reports, the raw and parsed post-upgrade status, the logs of
// pum-process and of the pods that are not ready, events, Helm release metadata (never values),
// node and storage summaries. Secrets are never read, Helm values never leave helmstore, and
// every text is passed through a redactor for anything that looks like a credential. A part
// that cannot be read (forbidden or failing) is skipped with a note in manifest.json.
package supportbundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/helmstore"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/status"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
	"github.com/thingpark-tools/kubectl-tpe/pkg/wait"
)

// Config says what to collect.
type Config struct {
	Namespace string
	Client    kubernetes.Interface
	// Exec reads the post-upgrade status; nil skips it.
	Exec podexec.Executor
	// Preflight runs the preflight checks; nil skips them (with a note).
	Preflight func(ctx context.Context) (*check.Report, error)
	// Tool is the name and version of the collecting tool, recorded in the manifest.
	Tool string
	// Words spells the commands and flags the reports name by key ("{cmd:wait}"): the
	// command's vocabulary (nil: the keys are left as they are).
	Words func(string) string
	// LogLines is how many lines of each container log are kept (2000 when 0).
	LogLines int64
	// MaxPods bounds how many not-ready pods get their logs collected (20 when 0).
	MaxPods int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// File is one file of the bundle.
type File struct {
	Path        string `json:"path"`
	Bytes       int    `json:"bytes"`
	Description string `json:"description"`
}

// Skipped is a part that was not collected, and why.
type Skipped struct {
	Part   string `json:"part"`
	Reason string `json:"reason"`
}

// Manifest lists the content of the bundle; it is written as manifest.json, the last file.
type Manifest struct {
	CreatedAt time.Time `json:"createdAt"`
	Namespace string    `json:"namespace"`
	Tool      string    `json:"tool,omitempty"`
	Files     []File    `json:"files"`
	Skipped   []Skipped `json:"skipped"`
	// Redactions counts the values that looked like credentials and were replaced.
	Redactions int `json:"redactions"`
	// Never lists what a bundle never contains, for the reader's peace of mind.
	Never []string `json:"never"`
}

// never is what the bundle never collects.
var never = []string{"Secrets (not even read)", "Helm values and rendered manifests", "ConfigMap data", "environment variables of pods"}

type writer struct {
	tw    *tar.Writer
	m     *Manifest
	now   time.Time
	words func(string) string
}

func (w *writer) add(path, desc string, data []byte) error {
	red, n := Redact(data)
	w.m.Redactions += n
	if err := w.tw.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(len(red)), ModTime: w.now, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("writing %s to the bundle: %w", path, err)
	}
	if _, err := w.tw.Write(red); err != nil {
		return fmt.Errorf("writing %s to the bundle: %w", path, err)
	}
	w.m.Files = append(w.m.Files, File{Path: path, Bytes: len(red), Description: desc})
	return nil
}

func (w *writer) addJSON(path, desc string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if w.words != nil {
		// A spelled key holds no character that JSON escapes.
		b = []byte(w.words(string(b)))
	}
	return w.add(path, desc, append(b, '\n'))
}

func (w *writer) skip(part string, err error) {
	reason := err.Error()
	if apierrors.IsForbidden(err) {
		reason = "forbidden: " + reason
	}
	w.m.Skipped = append(w.m.Skipped, Skipped{Part: part, Reason: text.OneLine(reason, 400)})
}

// Write collects the bundle and writes it as a .tar.gz to out. Errors of the cluster become
// Skipped entries; only a failure to write is returned.
func Write(ctx context.Context, out io.Writer, cfg Config) (*Manifest, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LogLines == 0 {
		cfg.LogLines = 2000
	}
	if cfg.MaxPods == 0 {
		cfg.MaxPods = 20
	}
	now := cfg.Now().UTC()
	gz := gzip.NewWriter(out)
	w := &writer{tw: tar.NewWriter(gz), now: now, words: cfg.Words,
		m: &Manifest{CreatedAt: now, Namespace: cfg.Namespace, Tool: cfg.Tool, Files: []File{}, Skipped: []Skipped{}, Never: never}}
	c, ns := cfg.Client, cfg.Namespace

	steps := []func() error{
		func() error { return w.preflight(ctx, cfg) },
		func() error { return w.status(ctx, cfg) },
		func() error { return w.pum(ctx, cfg) },
		func() error { return w.helm(ctx, c, ns) },
		func() error { return w.events(ctx, c, ns) },
		func() error { return w.workloads(ctx, c, ns) },
		func() error { return w.logs(ctx, cfg) },
		func() error { return w.nodes(ctx, c) },
		func() error { return w.storage(ctx, c, ns) },
		func() error { return w.version(c) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return w.m, err
		}
	}
	// The manifest lists every file but itself.
	if err := w.addJSON("manifest.json", "this list of the bundle's content and of the parts that were skipped", w.m); err != nil {
		return w.m, err
	}
	if err := w.tw.Close(); err != nil {
		return w.m, fmt.Errorf("closing the bundle: %w", err)
	}
	if err := gz.Close(); err != nil {
		return w.m, fmt.Errorf("closing the bundle: %w", err)
	}
	return w.m, nil
}

func (w *writer) preflight(ctx context.Context, cfg Config) error {
	if cfg.Preflight == nil {
		w.m.Skipped = append(w.m.Skipped, Skipped{Part: "preflight.json", Reason: "preflight not run"})
		return nil
	}
	r, err := cfg.Preflight(ctx)
	if err != nil {
		w.skip("preflight.json", err)
		return nil
	}
	return w.addJSON("preflight.json", "the preflight report (same schema as the JSON output of the preflight command)", r)
}

func (w *writer) status(ctx context.Context, cfg Config) error {
	d, err := status.Collect(ctx, status.Config{Namespace: cfg.Namespace, Client: cfg.Client, Exec: cfg.Exec, Now: cfg.Now})
	if err != nil {
		w.skip("status.json", err)
		return nil
	}
	return w.addJSON("status.json", "the status report (same schema as the JSON output of the status command)", d)
}

func (w *writer) pum(ctx context.Context, cfg Config) error {
	if cfg.Exec == nil {
		w.m.Skipped = append(w.m.Skipped, Skipped{Part: "pum/", Reason: "exec not available"})
		return nil
	}
	res, err := cfg.Exec.Exec(ctx, pum.Target(cfg.Namespace), []string{"status"}, nil)
	if err != nil {
		w.skip("pum/", err)
		return nil
	}
	if err := w.add("pum/status.txt", "raw output of `status` in deploy/pum (pod "+res.Pod+")", []byte(res.Stdout)); err != nil {
		return err
	}
	st, perr := pum.Parse(res.Stdout)
	if perr != nil {
		w.skip("pum/status.json", perr)
		return nil
	}
	st.Pod = res.Pod
	return w.addJSON("pum/status.json", "parsed post-upgrade status with its verdict", st)
}

func (w *writer) helm(ctx context.Context, c kubernetes.Interface, ns string) error {
	all, err := helmstore.ListAll(ctx, c, ns)
	if err != nil {
		w.skip("helm/releases.json", err)
		return nil
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Name != all[j].Name {
			return all[i].Name < all[j].Name
		}
		return all[i].Revision < all[j].Revision
	})
	return w.addJSON("helm/releases.json", "every stored revision of the Helm releases: chart, version, revision, status (never values or manifests)", all)
}

func (w *writer) events(ctx context.Context, c kubernetes.Interface, ns string) error {
	l, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		w.skip("events.json", err)
		return nil
	}
	type event struct {
		Time    time.Time `json:"time"`
		Type    string    `json:"type"`
		Reason  string    `json:"reason"`
		Object  string    `json:"object"`
		Count   int32     `json:"count,omitempty"`
		Message string    `json:"message"`
	}
	out := make([]event, 0, len(l.Items))
	for i := range l.Items {
		e := &l.Items[i]
		out = append(out, event{Time: wait.EventTime(e).UTC(), Type: e.Type, Reason: e.Reason,
			Object: e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name, Count: e.Count, Message: e.Message})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return w.addJSON("events.json", "the events of the namespace, oldest first", out)
}

func (w *writer) workloads(ctx context.Context, c kubernetes.Interface, ns string) error {
	var objs wait.Objects
	sts, err := c.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		w.skip("workloads.json", err)
		return nil
	}
	deps, err := c.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		w.skip("workloads.json", err)
		return nil
	}
	for i := range sts.Items {
		objs.StatefulSets = append(objs.StatefulSets, &sts.Items[i])
	}
	for i := range deps.Items {
		objs.Deployments = append(objs.Deployments, &deps.Items[i])
	}
	if jobs, err := c.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for i := range jobs.Items {
			objs.Jobs = append(objs.Jobs, &jobs.Items[i])
		}
	} else {
		w.skip("workloads.json (jobs)", err)
	}
	return w.addJSON("workloads.json", "StatefulSets, Deployments and Jobs with their rollout state (as the wait command judges it)", wait.Assess(wait.ForRollout, objs))
}

// logs collects the logs of the pods of Job pum-process and of the pods that are not ready.
func (w *writer) logs(ctx context.Context, cfg Config) error {
	c, ns := cfg.Client, cfg.Namespace
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		w.skip("logs/", err)
		return nil
	}
	var pumPods, notReady []*corev1.Pod
	for i := range pods.Items {
		p := &pods.Items[i]
		switch {
		case p.Labels["job-name"] == pum.Job || p.Labels["batch.kubernetes.io/job-name"] == pum.Job:
			pumPods = append(pumPods, p)
		case p.Status.Phase != corev1.PodSucceeded && wait.PodReason(p, nil) != "":
			notReady = append(notReady, p)
		}
	}
	sort.Slice(notReady, func(i, j int) bool { return notReady[i].Name < notReady[j].Name })
	if len(notReady) > cfg.MaxPods {
		w.m.Skipped = append(w.m.Skipped, Skipped{Part: "logs/not-ready/", Reason: fmt.Sprintf("%d pods are not ready; logs of the first %d only", len(notReady), cfg.MaxPods)})
		notReady = notReady[:cfg.MaxPods]
	}
	if len(pumPods) == 0 {
		w.m.Skipped = append(w.m.Skipped, Skipped{Part: "logs/pum-process/", Reason: "no pod of Job pum-process"})
	}
	for _, group := range []struct {
		dir  string
		pods []*corev1.Pod
	}{{"logs/pum-process/", pumPods}, {"logs/not-ready/", notReady}} {
		for _, p := range group.pods {
			var containers []corev1.ContainerStatus
			containers = append(containers, p.Status.InitContainerStatuses...)
			containers = append(containers, p.Status.ContainerStatuses...)
			names := map[string]int32{}
			for _, cs := range containers {
				names[cs.Name] = cs.RestartCount
			}
			for _, ct := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
				if err := w.containerLog(ctx, cfg, group.dir, p, ct.Name, false); err != nil {
					return err
				}
				if names[ct.Name] > 0 {
					if err := w.containerLog(ctx, cfg, group.dir, p, ct.Name, true); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func (w *writer) containerLog(ctx context.Context, cfg Config, dir string, p *corev1.Pod, container string, previous bool) error {
	name := fmt.Sprintf("%s%s_%s.log", dir, p.Name, container)
	if previous {
		name = fmt.Sprintf("%s%s_%s.previous.log", dir, p.Name, container)
	}
	lines := cfg.LogLines
	rc, err := cfg.Client.CoreV1().Pods(cfg.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: container, TailLines: &lines, Previous: previous}).Stream(ctx)
	if err != nil {
		w.skip(name, err)
		return nil
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(rc, 16<<20)); err != nil {
		w.skip(name, err)
		return nil
	}
	desc := fmt.Sprintf("last %d lines of container %s of pod %s", lines, container, p.Name)
	if previous {
		desc += " (previous instance)"
	}
	return w.add(name, desc, buf.Bytes())
}

func (w *writer) nodes(ctx context.Context, c kubernetes.Interface) error {
	l, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		w.skip("cluster/nodes.json", err)
		return nil
	}
	type node struct {
		Name          string            `json:"name"`
		Ready         string            `json:"ready"`
		Kubelet       string            `json:"kubelet"`
		OS            string            `json:"os"`
		CPU           string            `json:"allocatableCPU"`
		Memory        string            `json:"allocatableMemory"`
		Zone          string            `json:"zone,omitempty"`
		Labels        map[string]string `json:"labels,omitempty"`
		Taints        []string          `json:"taints,omitempty"`
		Unschedulable bool              `json:"unschedulable,omitempty"`
	}
	out := make([]node, 0, len(l.Items))
	for _, n := range l.Items {
		x := node{Name: n.Name, Kubelet: n.Status.NodeInfo.KubeletVersion, OS: n.Status.NodeInfo.OSImage,
			CPU: n.Status.Allocatable.Cpu().String(), Memory: n.Status.Allocatable.Memory().String(),
			Zone: n.Labels["topology.kubernetes.io/zone"], Labels: n.Labels, Unschedulable: n.Spec.Unschedulable, Ready: "Unknown"}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				x.Ready = string(cond.Status)
			}
		}
		for _, t := range n.Spec.Taints {
			x.Taints = append(x.Taints, fmt.Sprintf("%s=%s:%s", t.Key, t.Value, t.Effect))
		}
		out = append(out, x)
	}
	return w.addJSON("cluster/nodes.json", "node summary: readiness, versions, allocatable CPU/memory, zone, labels, taints", out)
}

func (w *writer) storage(ctx context.Context, c kubernetes.Interface, ns string) error {
	type sc struct {
		Name, Provisioner, ReclaimPolicy, BindingMode string
		Default                                       bool
		AllowExpansion                                bool
	}
	type pvc struct {
		Name, Phase, StorageClass, Capacity, Volume string
	}
	var out struct {
		StorageClasses []sc  `json:"storageClasses"`
		PVCs           []pvc `json:"pvcs"`
	}
	if l, err := c.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{}); err == nil {
		for _, s := range l.Items {
			out.StorageClasses = append(out.StorageClasses, sc{Name: s.Name, Provisioner: s.Provisioner, ReclaimPolicy: ptrString(s.ReclaimPolicy),
				BindingMode: bindingMode(s), Default: s.Annotations["storageclass.kubernetes.io/is-default-class"] == "true",
				AllowExpansion: s.AllowVolumeExpansion != nil && *s.AllowVolumeExpansion})
		}
	} else {
		w.skip("cluster/storage.json (storage classes)", err)
	}
	if l, err := c.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range l.Items {
			x := pvc{Name: p.Name, Phase: string(p.Status.Phase), Volume: p.Spec.VolumeName}
			if p.Spec.StorageClassName != nil {
				x.StorageClass = *p.Spec.StorageClassName
			}
			if q, ok := p.Status.Capacity[corev1.ResourceStorage]; ok {
				x.Capacity = q.String()
			}
			out.PVCs = append(out.PVCs, x)
		}
	} else {
		w.skip("cluster/storage.json (pvcs)", err)
	}
	return w.addJSON("cluster/storage.json", "StorageClasses and the namespace's PVCs", out)
}

func ptrString[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

func bindingMode(s storagev1.StorageClass) string { return ptrString(s.VolumeBindingMode) }

func (w *writer) version(c kubernetes.Interface) error {
	v := map[string]string{"tool": w.m.Tool}
	if sv, err := c.Discovery().ServerVersion(); err == nil {
		v["kubernetes"] = sv.GitVersion
	} else {
		w.skip("version.json (server version)", err)
	}
	return w.addJSON("version.json", "versions of the tool and of the Kubernetes API server", v)
}

// redactions are patterns of credentials in free text; the first group is kept, the rest replaced.
var redactions = []*regexp.Regexp{
	// key=value / key: value / "key":"value" where the key names a secret
	regexp.MustCompile(`(?i)((?:password|passwd|pwd|secret|secretkey|secret_key|secretaccesskey|access_?key|api_?key|token|installation_?id|installationid|credentials?|private_?key)["']?\s*[:=]\s*["']?)[^\s"',;}&]+`),
	// Authorization headers
	regexp.MustCompile(`(?i)(authorization:\s*(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+`),
	// user:password@ in URLs
	regexp.MustCompile(`(://[^/\s:@]+:)[^@\s/]+(@)`),
	// AWS access key ids
	regexp.MustCompile(`()\bAKIA[0-9A-Z]{16}\b`),
	// JWTs
	regexp.MustCompile(`()\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`),
}

var pemBlock = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`)

// Redacted replaces a credential in the bundle.
const Redacted = "***REDACTED***"

// Redact replaces what looks like a credential and returns the count of replacements.
func Redact(b []byte) ([]byte, int) {
	n := 0
	b = pemBlock.ReplaceAllFunc(b, func([]byte) []byte { n++; return []byte(Redacted) })
	for _, re := range redactions {
		b = re.ReplaceAllFunc(b, func(m []byte) []byte {
			sub := re.FindSubmatch(m)
			n++
			out := append([]byte(nil), sub[1]...)
			out = append(out, Redacted...)
			if len(sub) > 2 {
				out = append(out, sub[2]...)
			}
			return out
		})
	}
	return b, n
}
