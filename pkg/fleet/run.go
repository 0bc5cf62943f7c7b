package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

// DefaultConcurrency is how many installations are read at once when Config says nothing.
const DefaultConcurrency = 8

// DefaultTimeout is the time limit of one installation when Config says nothing.
const DefaultTimeout = time.Minute

// Config says how to run over the installations.
type Config struct {
	// Concurrency bounds how many installations are read at once (DefaultConcurrency when 0).
	Concurrency int
	// Timeout is the time limit of one installation, connection included (no limit when < 0,
	// DefaultTimeout when 0).
	Timeout time.Duration
	// RequestTimeout bounds each request's wait for the API server to start answering, as in the
	// single-cluster commands (kube.DefaultRequestTimeout when 0; none when < 0).
	RequestTimeout time.Duration
	// UserAgent is the user agent of every request ("": client-go's).
	UserAgent string
	// Impersonate, when its UserName is set, makes every installation's requests act as that
	// user (kubectl's --as and --as-group), over each context's own credentials.
	Impersonate rest.ImpersonationConfig
	// Redact hides secrets in error messages (redact.URLs is always applied).
	Redact func(string) string
	// Connect builds the clients of an installation (Connect when nil; tests hand in fakes).
	Connect func(ctx context.Context, in Installation, cfg Config) (*Target, error)
}

// Target is one installation, connected: the clients built from its kubeconfig with the user's
// own credentials, after one request (GET /version) that the server answered.
type Target struct {
	Installation
	// Host is the API server's URL, credentials masked.
	Host string
	// Namespace is the TPE namespace (kube.TPENamespace of the context's or the given one).
	Namespace string
	// KubernetesVersion is the server's git version ("v1.33.1").
	KubernetesVersion string
	// Clients are the clients of the installation; their Counter counts its requests.
	Clients *kube.Clients
	// RESTConfig is the installation's REST config as loaded (no counter, no timeout wrapping):
	// for clients a caller builds itself (Helm's).
	RESTConfig *rest.Config
	// Loader is the kubeconfig loader of the installation (namespace, context).
	Loader clientcmd.ClientConfig
}

// ErrorKind says why an installation could not be read.
type ErrorKind string

// The kinds of ErrorKind.
const (
	// ErrUnreachable: the API server did not answer (refused, no answer within the request
	// timeout, TLS handshake).
	ErrUnreachable ErrorKind = "unreachable"
	// ErrUnauthorized: the API server refused the credentials (401).
	ErrUnauthorized ErrorKind = "unauthorized"
	// ErrForbidden: the credentials may not read what is needed (403).
	ErrForbidden ErrorKind = "forbidden"
	// ErrTimeout: the installation took longer than the time limit.
	ErrTimeout ErrorKind = "timeout"
	// ErrKubeconfig: the kubeconfig or the context cannot be used.
	ErrKubeconfig ErrorKind = "kubeconfig"
	// ErrOther: any other error of the use case.
	ErrOther ErrorKind = "error"
)

// RowError is why one installation has no result.
type RowError struct {
	Kind    ErrorKind `json:"kind"`
	Message string    `json:"message"`
}

func (e *RowError) Error() string { return e.Message }

// Outcome is what every result says of its installation, whatever the use case.
type Outcome struct {
	Installation
	// Cluster is the API server's URL ("" when the kubeconfig could not be read).
	Cluster string `json:"cluster,omitempty"`
	// Namespace is the TPE namespace looked at.
	Namespace         string `json:"namespace"`
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// Error is set when the installation could not be read; the use case's result is then absent.
	Error *RowError `json:"error,omitempty"`
	// Seconds is the wall time spent on the installation.
	Seconds float64 `json:"seconds"`
	// Requests is the number of API requests sent to the installation.
	Requests int64 `json:"apiRequests"`
}

// Result is one installation's outcome and the value of the use case (zero when Error is set).
type Result[T any] struct {
	Outcome
	Value T
}

// TimeoutError is an installation that did not finish within the time limit.
type TimeoutError struct{ After time.Duration }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no result within the time limit of one installation (%s)", e.After)
}

// ForbiddenError is a use case that could read nothing of an installation with its credentials
// (each section it reads was refused): the row is an error, not a dashboard of skipped sections.
type ForbiddenError struct{ Namespace string }

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("forbidden: the credentials may read nothing of namespace %s (every section was refused)", e.Namespace)
}

// Run connects to each installation and calls fn with it, at most cfg.Concurrency at a time, each
// within cfg.Timeout. The results are in the order of ins. fn is the single-cluster use case
// (status.Collect, preflight.Run, the plan): what it returns is the installation's Value, its error
// the installation's Error.
func Run[T any](ctx context.Context, ins []Installation, cfg Config, fn func(ctx context.Context, t *Target) (T, error)) []Result[T] {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Connect == nil {
		cfg.Connect = Connect
	}
	out := make([]Result[T], len(ins))
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				out[i] = Result[T]{Outcome: Outcome{Installation: ins[i], Namespace: ins[i].Namespace,
					Error: cfg.rowError(context.Cause(ctx))}}
				return
			}
			out[i] = one(ctx, ins[i], cfg, fn)
		}()
	}
	wg.Wait()
	return out
}

// one runs fn on one installation within the time limit. fn runs in its own goroutine so that a
// use case slow to notice the end of its context cannot hold the run past the limit; its late
// result is dropped.
func one[T any](ctx context.Context, in Installation, cfg Config, fn func(ctx context.Context, t *Target) (T, error)) Result[T] {
	start := time.Now()
	cancel := context.CancelFunc(func() {})
	if cfg.Timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, cfg.Timeout, &TimeoutError{After: cfg.Timeout})
	}
	defer cancel()
	res := Result[T]{Outcome: Outcome{Installation: in, Namespace: in.Namespace}}
	type done struct {
		t   *Target
		v   T
		err error
	}
	ch := make(chan done, 1)
	var target *Target
	var mu sync.Mutex // guards target (read for the request count when the limit fires first)
	go func() {
		t, err := cfg.Connect(ctx, in, cfg)
		mu.Lock()
		target = t
		mu.Unlock()
		if err != nil {
			ch <- done{t: t, err: err}
			return
		}
		v, err := fn(ctx, t)
		ch <- done{t: t, v: v, err: err}
	}()
	var d done
	select {
	case d = <-ch:
	case <-ctx.Done():
		d.err = context.Cause(ctx)
		mu.Lock()
		d.t = target
		mu.Unlock()
	}
	res.Seconds = time.Since(start).Seconds()
	if d.t != nil {
		res.Cluster, res.Namespace, res.KubernetesVersion = d.t.Host, d.t.Namespace, d.t.KubernetesVersion
		if d.t.Clients != nil && d.t.Clients.Counter != nil {
			res.Requests = d.t.Clients.Counter.Total()
		}
	}
	if d.err != nil {
		if ctx.Err() != nil && context.Cause(ctx) != nil {
			// The limit fired: whatever the use case made of it, the row says so.
			var te *TimeoutError
			if errors.As(context.Cause(ctx), &te) {
				d.err = te
			}
		}
		res.Error = cfg.rowError(d.err)
		return res
	}
	res.Value = d.v
	return res
}

// Connect loads the installation's kubeconfig context with client-go's loading rules (its own
// credentials: certificates, tokens, exec plugins), builds the clients and asks the server for
// its version: the one request kube.NewClients' probe makes. A server that answers 401 or 403 is
// an error here (the single-cluster commands go on and show each section as skipped).
func Connect(ctx context.Context, in Installation, cfg Config) (*Target, error) {
	ov := &clientcmd.ConfigOverrides{CurrentContext: in.Context}
	if in.Namespace != "" {
		ov.Context.Namespace = in.Namespace
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loadingRules(in.Kubeconfig), ov)
	kubeconfigErr := func(err error) error {
		where := kubeconfigName(in.Kubeconfig)
		if in.Context != "" {
			where += ", context " + in.Context
		}
		return &kube.KubeconfigError{Where: where, Err: err}
	}
	if in.Context != "" {
		raw, err := loader.RawConfig()
		if err != nil {
			return nil, kubeconfigErr(err)
		}
		if _, ok := raw.Contexts[in.Context]; !ok {
			return nil, kubeconfigErr(errNoContext)
		}
	}
	rc, err := loader.ClientConfig()
	if err != nil {
		return nil, kubeconfigErr(err)
	}
	ns, explicit, err := loader.Namespace()
	if err != nil {
		return nil, kubeconfigErr(err)
	}
	switch {
	case cfg.RequestTimeout == 0:
		rc.Timeout = kube.DefaultRequestTimeout
	case cfg.RequestTimeout > 0:
		rc.Timeout = cfg.RequestTimeout
	}
	if cfg.UserAgent != "" {
		rc.UserAgent = cfg.UserAgent
	}
	if cfg.Impersonate.UserName != "" {
		rc.Impersonate = cfg.Impersonate
	}
	c, err := kube.FromConfig(rc, ns, explicit)
	if err != nil {
		return nil, err
	}
	t := &Target{Installation: in, Host: redact.URLs(rc.Host), Namespace: c.TPENamespace(), Clients: c,
		RESTConfig: rest.CopyConfig(rc), Loader: loader}
	v, err := c.ProbeVersion(ctx)
	if v != nil {
		t.KubernetesVersion = v.GitVersion
	}
	return t, err
}

// rowError classifies err and words it for a row, secrets removed.
func (cfg Config) rowError(err error) *RowError {
	kind, msg := classify(err)
	if cfg.Redact != nil {
		msg = cfg.Redact(msg)
	}
	return &RowError{Kind: kind, Message: redact.URLs(msg)}
}

func classify(err error) (ErrorKind, string) {
	var te *TimeoutError
	var ke *kube.KubeconfigError
	switch {
	case errors.As(err, &te):
		return ErrTimeout, te.Error()
	case errors.As(err, &ke):
		msg := "cannot use " + ke.Where
		if ke.Err != nil {
			msg += ": " + ke.Err.Error()
		}
		return ErrKubeconfig, msg
	case kube.IsUnreachable(err):
		return ErrUnreachable, err.Error()
	case apierrors.IsUnauthorized(err):
		return ErrUnauthorized, "the API server refused the credentials of the kubeconfig (401 Unauthorized): " + err.Error()
	case errors.As(err, new(*ForbiddenError)):
		return ErrForbidden, err.Error()
	case apierrors.IsForbidden(err):
		return ErrForbidden, "forbidden (403): " + err.Error()
	case errors.Is(err, context.Canceled):
		return ErrOther, "interrupted before this installation was read"
	}
	return ErrOther, err.Error()
}

// Failed returns how many results have an error.
func Failed[T any](rs []Result[T]) int {
	n := 0
	for _, r := range rs {
		if r.Error != nil {
			n++
		}
	}
	return n
}
