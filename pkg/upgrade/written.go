package upgrade

import (
	"sync"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/kube"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/thingpark-tools/kubectl-tpe/pkg/wait"
)

// writeRecorder is Helm's Kubernetes client for one run, with a memory of the workloads its actions wrote
// (created, patched or replaced: Helm refreshes each object from the API server's answer). The
// waits of a run share one long-lived watch (wait.Watch); the wait after a chart judges only once
// that watch has seen these writes, never the state from before the chart.
type writeRecorder struct {
	*kube.Client

	mu        sync.Mutex // guards written and reachable
	written   []wait.Written
	reachable bool
}

// IsReachable implements kube.Interface: Helm asks before each action; a run asks the API
// server once. A server that becomes unreachable later fails the next request all the same.
func (c *writeRecorder) IsReachable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reachable {
		return nil
	}
	if err := c.Client.IsReachable(); err != nil {
		return err
	}
	c.reachable = true
	return nil
}

// Create implements kube.Interface.
func (c *writeRecorder) Create(resources kube.ResourceList) (*kube.Result, error) {
	res, err := c.Client.Create(resources)
	c.record(resources)
	return res, err
}

// Update implements kube.Interface.
func (c *writeRecorder) Update(original, target kube.ResourceList, force bool) (*kube.Result, error) {
	res, err := c.Client.Update(original, target, force)
	c.record(target)
	return res, err
}

// UpdateThreeWayMerge implements kube.InterfaceThreeWayMerge (install --replace adopts with it).
func (c *writeRecorder) UpdateThreeWayMerge(original, target kube.ResourceList, force bool) (*kube.Result, error) {
	res, err := c.Client.UpdateThreeWayMerge(original, target, force)
	c.record(target)
	return res, err
}

func (c *writeRecorder) record(resources kube.ResourceList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, info := range resources {
		if info == nil || info.Object == nil || info.Mapping == nil {
			continue
		}
		kind := info.Mapping.GroupVersionKind.Kind
		if kind != "Deployment" && kind != "StatefulSet" {
			continue
		}
		m, err := meta.Accessor(info.Object)
		if err != nil || m.GetResourceVersion() == "" {
			continue // not written (an error before it)
		}
		c.written = append(c.written, wait.Written{Kind: kind, Namespace: info.Namespace, Name: info.Name, ResourceVersion: m.GetResourceVersion()})
	}
}

// take returns the workloads written since the last take.
func (c *writeRecorder) take() []wait.Written {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.written
	c.written = nil
	return out
}

// recording returns a copy of cfg whose Kubernetes client records the workloads it writes, and
// the recorder (nil when cfg's client is not Helm's: tests with a fake client).
func recording(cfg *action.Configuration) (*action.Configuration, *writeRecorder) {
	kc, ok := cfg.KubeClient.(*kube.Client)
	if !ok {
		return cfg, nil
	}
	out := *cfg
	rec := &writeRecorder{Client: kc}
	out.KubeClient = rec
	return &out, rec
}
