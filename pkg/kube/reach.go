package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultRequestTimeout bounds how long a request waits for the API server to start answering
// (connection, TLS handshake, response headers) when the user sets no timeout of their own. It
// does not bound a watch or a log stream once the server answers, nor an exec session.
const DefaultRequestTimeout = 30 * time.Second

// RequestTimeoutUsage is the help of --request-timeout on both plugins.
const RequestTimeoutUsage = "How long each API request waits for the Kubernetes API server to start answering (connection, TLS handshake, headers), e.g. 10s or 2m; watches, logs and exec sessions are not cut once answered. 0 waits for ever"

// UnreachableError says that the API server did not answer: nothing was listening, the name did
// not resolve, the TLS handshake or the answer did not come within the timeout. One such error
// replaces the list of failures every later request would give.
type UnreachableError struct {
	// Host is the API server's URL, from the kubeconfig.
	Host string
	// Reason says what happened, in a few words ("connection refused").
	Reason string
	Err    error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("the Kubernetes API server %s does not answer: %s", e.Host, e.Reason)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// NoAnswerError is a request the API server did not start answering within the timeout.
type NoAnswerError struct {
	Host  string
	After time.Duration
}

func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("the API server %s did not answer within %s", e.Host, e.After)
}

// Timeout marks the error as a timeout for net.Error-style checks (client-go retries on it).
func (e *NoAnswerError) Timeout() bool { return true }

// Probe asks the API server for its version, once, within the request timeout of c. An answer of
// any HTTP status means the server is there; no answer is an *UnreachableError. When ctx ends
// first its cause is returned.
func (c *Clients) Probe(ctx context.Context) error {
	_, err := c.ProbeVersion(ctx)
	if _, isStatus := err.(apierrors.APIStatus); isStatus || errors.As(err, new(apierrors.APIStatus)) {
		return nil
	}
	return err
}

// ProbeVersion is Probe's one request, GET /version, returning what the server said: its version,
// or the API status error it answered with (401 credentials refused, 403 forbidden), where Probe
// takes any answer as "the server is there". Clients built without a real REST client (fakes)
// give a nil version and no error.
func (c *Clients) ProbeVersion(ctx context.Context) (*version.Info, error) {
	kc, ok := c.Kube.(*kubernetes.Clientset)
	if !ok || kc.Discovery().RESTClient() == nil {
		return nil, nil
	}
	pctx, cancel := context.WithCancel(ctx)
	if c.RequestTimeout > 0 {
		// The transport bounds each request; this bounds client-go's retries of them.
		pctx, cancel = context.WithTimeout(ctx, c.RequestTimeout+time.Second)
	}
	defer cancel()
	timeout := c.RequestTimeout
	body, err := kc.Discovery().RESTClient().Get().AbsPath("/version").Do(pctx).Raw()
	if err == nil {
		var v version.Info
		if jerr := json.Unmarshal(body, &v); jerr != nil {
			return nil, fmt.Errorf("reading the version the API server %s answered: %w", c.Config.Host, jerr)
		}
		return &v, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("asking the API server %s for its version: %w", c.Config.Host, context.Cause(ctx))
	}
	if _, isStatus := err.(apierrors.APIStatus); isStatus || errors.As(err, new(apierrors.APIStatus)) {
		return nil, err
	}
	if pctx.Err() != nil {
		err = &NoAnswerError{Host: c.Config.Host, After: timeout}
	}
	return nil, &UnreachableError{Host: c.Config.Host, Reason: reason(err, timeout), Err: err}
}

// reason says in a few words why a request got no answer.
func reason(err error, timeout time.Duration) string {
	var na *NoAnswerError
	var dns *net.DNSError
	msg := err.Error()
	switch {
	case errors.As(err, &na):
		return fmt.Sprintf("no answer within %s", na.After)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens at that address)"
	case errors.As(err, &dns):
		return fmt.Sprintf("the host name %s does not resolve", dns.Name)
	case strings.Contains(msg, "TLS handshake timeout"):
		return "the TLS handshake did not complete"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed without an answer"
	case (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)) && timeout > 0:
		return fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "no answer in time"
	}
	// The innermost message, without client-go's "Get \"https://…\":" prefix.
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
		msg = u.Error()
	}
	return msg
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsUnreachable reports whether err says the API server does not answer: an *UnreachableError,
// or a request error of the same kinds (refused, reset, timed out, no answer).
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var ue *UnreachableError
	var na *NoAnswerError
	if errors.As(err, &ue) || errors.As(err, &na) {
		return true
	}
	if errors.As(err, new(apierrors.APIStatus)) {
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		strings.Contains(err.Error(), "TLS handshake timeout") || isTimeout(err)
}

// bound moves cfg.Timeout (--request-timeout, whose default is DefaultRequestTimeout) from the
// HTTP client, where it would also cut watches and log streams and make client-go log "unable to
// cancel request", to a transport that gives each request that long to start answering. Zero is
// no timeout, as in kubectl. It returns the timeout applied.
func bound(cfg *rest.Config) time.Duration {
	timeout := cfg.Timeout
	cfg.Timeout = 0
	if timeout <= 0 {
		return 0
	}
	prev := cfg.WrapTransport
	host := cfg.Host
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if prev != nil {
			rt = prev(rt)
		}
		return &answerTimeout{rt: rt, timeout: timeout, host: host}
	}
	return timeout
}

// answerTimeout cancels a request the server has not started answering within timeout; once the
// headers are in, the body (a watch, a log stream) is not bounded.
type answerTimeout struct {
	rt      http.RoundTripper
	timeout time.Duration
	host    string
}

func (t *answerTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	if isStream(req) {
		return t.rt.RoundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	fired := make(chan struct{})
	timer := time.AfterFunc(t.timeout, func() { close(fired); cancel() })
	resp, err := t.rt.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		<-fired
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		cancel()
		return nil, &NoAnswerError{Host: t.host, After: t.timeout}
	}
	if err != nil || resp == nil || resp.Body == nil {
		cancel()
		return resp, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// isStream is true for the requests that upgrade the connection (exec, attach, port-forward):
// they are left alone.
func isStream(req *http.Request) bool {
	if req.Header.Get("Upgrade") != "" || req.Header.Get("X-Stream-Protocol-Version") != "" ||
		req.Header.Get("Sec-Websocket-Protocol") != "" {
		return true
	}
	p := req.URL.Path
	return strings.HasSuffix(p, "/exec") || strings.HasSuffix(p, "/attach") || strings.HasSuffix(p, "/portforward")
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// Health follows whether the API server answers, from the requests of one set of clients: the
// first request that gets no answer after one that did (or at the start) calls Notify with
// up=false, the first answer after that with up=true. Waits that retry through an outage thus
// say so once, and once when it is over. Its zero value notifies nobody.
type Health struct {
	mu     sync.Mutex // guards down and notify
	down   bool
	notify func(up bool, host string, err error)
}

// OnChange sets the function called when the server stops or starts answering again.
func (h *Health) OnChange(f func(up bool, host string, err error)) {
	h.mu.Lock()
	h.notify = f
	h.mu.Unlock()
}

func (h *Health) wrap(rt http.RoundTripper, host string) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		switch {
		case err == nil:
			h.set(false, host, nil)
		case req.Context().Err() == nil && IsUnreachable(err):
			h.set(true, host, err)
		}
		return resp, err
	})
}

func (h *Health) set(down bool, host string, err error) {
	h.mu.Lock()
	changed, notify := h.down != down, h.notify
	h.down = down
	h.mu.Unlock()
	if changed && notify != nil {
		notify(!down, host, err)
	}
}

// HealthLines is a Health.OnChange function that writes one line to w for each change (w is the
// command's error stream).
func HealthLines(w io.Writer) func(up bool, host string, err error) {
	return func(up bool, host string, err error) {
		if up {
			fmt.Fprintf(w, "the Kubernetes API server %s answers again\n", host)
			return
		}
		fmt.Fprintf(w, "warning: the Kubernetes API server %s stopped answering (%s); retrying until the timeout\n", host, reason(err, 0))
	}
}
