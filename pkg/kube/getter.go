package kube

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// Getter is a RESTClientGetter over one REST config whose discovery client and REST mapper are
// built once: every client built from it, and every Helm action given it, share one memory-cached
// discovery (API groups and resources, OpenAPI documents) and one deferred REST mapper, instead
// of discovering the API again for each. The mapper re-reads the discovery only when a kind is
// unknown (a CRD installed by an earlier chart).
type Getter struct {
	config    *rest.Config
	loader    clientcmd.ClientConfig
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
}

var _ genericclioptions.RESTClientGetter = (*Getter)(nil)

// NewGetter builds the shared discovery client and REST mapper from cfg; loader is the kubeconfig
// loader the config came from (namespace and contexts). cfg.Timeout bounds each request's wait for
// an answer, as in FromConfig.
func NewGetter(cfg *rest.Config, loader clientcmd.ClientConfig) (*Getter, error) {
	cfg = rest.CopyConfig(cfg)
	bound(cfg)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(cached), cached, nil)
	return &Getter{config: cfg, loader: loader, discovery: cached, mapper: mapper}, nil
}

// WithUserAgent returns a Getter whose REST configs announce ua, sharing the discovery client and
// REST mapper of g (their requests keep g's user agent).
func (g *Getter) WithUserAgent(ua string) *Getter {
	out := *g
	out.config = rest.CopyConfig(g.config)
	out.config.UserAgent = ua
	return &out
}

// ToRESTConfig returns a copy of the shared REST config.
func (g *Getter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

// ToDiscoveryClient returns the shared, memory-cached discovery client.
func (g *Getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}

// ToRESTMapper returns the shared REST mapper.
func (g *Getter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

// ToRawKubeConfigLoader returns the kubeconfig loader the config came from.
func (g *Getter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return g.loader }
