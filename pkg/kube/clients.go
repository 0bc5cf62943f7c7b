// Package kube is the one place where Kubernetes clients are built. Both plugins hand it a
// genericclioptions.RESTClientGetter (kubectl's config flags, or helm's EnvSettings).
package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Clients bundles the clients the domain packages need.
type Clients struct {
	Config    *rest.Config
	Kube      kubernetes.Interface
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
	Mapper    meta.RESTMapper
	// Namespace is the namespace from -n or the kubeconfig context.
	Namespace string
	// ExplicitNamespace is true when -n was given.
	ExplicitNamespace bool
	// Counter counts the API requests made through these clients.
	Counter *RequestCounter
	// RequestTimeout is how long each request may wait for the server to start answering (0: no
	// limit).
	RequestTimeout time.Duration
	// Health says when the API server stops answering and when it is back.
	Health *Health
}

// QPS and Burst are raised over client-go's defaults (5/10): a preflight or status run makes a few
// dozen requests in a burst, and the client-side limiter would only add latency.
const (
	QPS   = 50
	Burst = 100
)

// NewClients builds every client from getter and probes the API server (Probe). A missing or
// broken kubeconfig gives one error that says which file and what to do; a server that does not
// answer, one *UnreachableError.
func NewClients(ctx context.Context, getter genericclioptions.RESTClientGetter) (*Clients, error) {
	cfg, err := getter.ToRESTConfig()
	if err != nil {
		return nil, ConfigError(err)
	}
	if err := checkConfigured(getter, cfg); err != nil {
		return nil, err
	}
	ns, explicit, err := getter.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, ConfigError(err)
	}
	c, err := FromConfig(cfg, ns, explicit)
	if err != nil {
		return nil, err
	}
	if err := c.Probe(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// FromConfig builds the clients from a rest.Config; cfg.Timeout becomes the time each request may
// wait for the server to start answering (see bound).
func FromConfig(cfg *rest.Config, ns string, explicit bool) (*Clients, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = QPS, Burst
	timeout := bound(cfg)
	counter, health, host := &RequestCounter{}, &Health{}, cfg.Host
	prev := cfg.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if prev != nil {
			rt = prev(rt)
		}
		return health.wrap(counter.Wrap(rt), host)
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the Kubernetes client: %w", err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the dynamic client: %w", err)
	}
	if ns == "" {
		ns = "default"
	}
	return &Clients{Config: cfg, Kube: kc, Dynamic: dc, Discovery: kc.Discovery(), Namespace: ns,
		ExplicitNamespace: explicit, Counter: counter, RequestTimeout: timeout, Health: health}, nil
}

// ConfigError turns a kubeconfig loading error into a *KubeconfigError.
func ConfigError(err error) error {
	return &KubeconfigError{Empty: clientcmd.IsEmptyConfig(err) || errors.Is(err, clientcmd.ErrEmptyConfig), Err: err}
}

// KubeconfigError is a kubeconfig that names no cluster (Empty) or does not load. Where says
// what was looked for ("~/.kube/config does not exist"; "" when unknown). Its message names no
// flag: a command words it with its own (WithFlags).
type KubeconfigError struct {
	Empty bool
	Where string
	Err   error
}

func (e *KubeconfigError) Error() string { return e.message("", "") }
func (e *KubeconfigError) Unwrap() error { return e.Err }

// WithFlags words the error with the command's kubeconfig and context flags.
func (e *KubeconfigError) WithFlags(kubeconfig, context string) error {
	return &wordedError{err: e, msg: e.message(kubeconfig, context)}
}

func (e *KubeconfigError) message(kubeconfig, context string) string {
	if !e.Empty {
		check := "KUBECONFIG"
		if kubeconfig != "" {
			check = kubeconfig + ", KUBECONFIG and " + context
		}
		return fmt.Sprintf("cannot load the kubeconfig (check %s): %v", check, e.Err)
	}
	msg := "no Kubernetes cluster is configured"
	if e.Where != "" {
		msg += " (" + e.Where + ")"
	}
	if kubeconfig != "" {
		msg += ": pass " + kubeconfig + " FILE, set KUBECONFIG to the kubeconfig of the TPE cluster, or use " + context + " to pick a context"
	} else {
		msg += ": set KUBECONFIG to the kubeconfig of the TPE cluster"
	}
	if e.Err != nil {
		msg += fmt.Sprintf(" (%v)", e.Err)
	}
	return msg
}

// wordedError is an error with another message and the same chain.
type wordedError struct {
	err error
	msg string
}

func (e *wordedError) Error() string { return e.msg }
func (e *wordedError) Unwrap() error { return e.err }

// cli-runtime falls back to http://localhost:8080 when no kubeconfig is found (as kubectl does);
// for a maintenance-window tool that is a confusing list of "connection refused" errors instead
// of one message that says which kubeconfig was looked for.
const insecureDefaultHost = "http://localhost:8080"

func checkConfigured(getter genericclioptions.RESTClientGetter, cfg *rest.Config) error {
	if cfg.Host != insecureDefaultHost && cfg.Host != "localhost:8080" {
		return nil
	}
	raw, err := getter.ToRawKubeConfigLoader().RawConfig()
	if err != nil || len(raw.Clusters) > 0 {
		return nil
	}
	where := "~/.kube/config does not exist"
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		where = fmt.Sprintf("KUBECONFIG=%s names no readable kubeconfig file", env)
	}
	return &KubeconfigError{Empty: true, Where: where}
}

// RequestCounter counts HTTP requests by verb; it is safe for concurrent use.
type RequestCounter struct {
	total atomic.Int64
	mu    sync.Mutex // guards byKey
	byKey map[string]int
}

// Wrap returns a RoundTripper that counts every request through rt.
func (c *RequestCounter) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.total.Add(1)
		key := r.Method
		if r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1" {
			key = "WATCH"
		}
		c.mu.Lock()
		if c.byKey == nil {
			c.byKey = map[string]int{}
		}
		c.byKey[key]++
		c.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

// Total returns the number of requests so far.
func (c *RequestCounter) Total() int64 { return c.total.Load() }

// Mutating returns the number of requests that could change state (POST, PUT, PATCH, DELETE).
// Reviews (SelfSubjectAccessReview, ...) are POSTs that change nothing; callers that need the
// difference count on the API server.
func (c *RequestCounter) Mutating() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byKey["POST"] + c.byKey["PUT"] + c.byKey["PATCH"] + c.byKey["DELETE"]
}

// String summarises the counts, e.g. "12 requests (GET 9, POST 3)".
func (c *RequestCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.byKey))
	for k := range c.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, c.byKey[k]))
	}
	return fmt.Sprintf("%d requests (%s)", c.total.Load(), strings.Join(parts, ", "))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// DefaultTPENamespace is used when neither -n nor the kubeconfig context names a namespace.
const DefaultTPENamespace = "thingpark-enterprise"

// TPENamespace is the namespace TPE commands work in: -n when given, else the context's
// namespace unless that is just client-go's fallback "default", else thingpark-enterprise.
func (c *Clients) TPENamespace() string { return TPENamespace(c.Namespace, c.ExplicitNamespace) }

// TPENamespace is the rule of Clients.TPENamespace for a namespace read from a kubeconfig loader
// (ns, and whether -n gave it), for commands that build no clients.
func TPENamespace(ns string, explicit bool) string {
	if explicit || (ns != "" && ns != "default") {
		return ns
	}
	return DefaultTPENamespace
}
