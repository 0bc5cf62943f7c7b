package helmtpe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	helmcli "helm.sh/helm/v3/pkg/cli"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
)

// UserAgent is the user agent of every API request helm tpe makes (the API server's audit log
// tells helm tpe's requests apart by it).
func UserAgent() string { return "helm-tpe/" + cli.Version().Version }

// HelmUserAgent is the user agent of the requests of the Helm SDK's clients in helm tpe (its
// actions, release storage and discovery): UserAgent with a "(helm-sdk)" mark, so that the audit
// log tells what Helm's install/upgrade costs from what helm tpe adds.
func HelmUserAgent() string { return UserAgent() + " (helm-sdk)" }

// setUserAgent makes every client built from Helm's settings announce helm-tpe, and wait timeout
// for the API server's answer (--request-timeout).
func setUserAgent(settings *helmcli.EnvSettings, timeout time.Duration) {
	cf, ok := settings.RESTClientGetter().(*genericclioptions.ConfigFlags)
	if !ok || cf.WrapConfigFn == nil {
		return
	}
	prev := cf.WrapConfigFn
	cf.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c = prev(c)
		c.UserAgent = UserAgent()
		c.Timeout = timeout
		return c
	}
}

// Cluster is what commands that talk to the cluster share: the clients, the TPE namespace and
// Helm's action configuration for it.
type Cluster struct {
	Clients   *kube.Clients
	Namespace string
	Action    *action.Configuration
	Exec      podexec.Executor
}

// Cluster builds (once) the clients and the action configuration, as Helm plugins do:
// actionConfig.Init(getter, namespace, $HELM_DRIVER, debug log). The getter is not Helm's own
// settings.RESTClientGetter(), which discovers the API again for every Helm action, but a
// kube.Getter over the same kubeconfig: one REST config, one memory-cached discovery and one REST
// mapper for the whole command, shared by every Helm action (with the HelmUserAgent).
func (e *Env) Cluster(ctx context.Context) (*Cluster, error) {
	if e.cluster != nil {
		return e.cluster, nil
	}
	settingsGetter := e.Settings.RESTClientGetter()
	clients, err := kube.NewClients(ctx, settingsGetter)
	var ue *kube.UnreachableError
	if errors.As(err, &ue) {
		return nil, &UnreachableError{Err: ue}
	}
	if err != nil {
		return nil, helmFlagNames(err)
	}
	clients.Health.OnChange(kube.HealthLines(e.Streams.ErrOut))
	ns := clients.TPENamespace()
	// Helm's getter must agree: resources without a namespace land in the TPE namespace.
	e.Settings.SetNamespace(ns)
	restCfg, err := settingsGetter.ToRESTConfig()
	if err != nil {
		return nil, helmFlagNames(kube.ConfigError(err))
	}
	restCfg.UserAgent = HelmUserAgent()
	getter, err := kube.NewGetter(restCfg, settingsGetter.ToRawKubeConfigLoader())
	if err != nil {
		return nil, err
	}
	cfg := new(action.Configuration)
	if err := cfg.Init(getter, ns, os.Getenv("HELM_DRIVER"), e.debugf); err != nil {
		return nil, fmt.Errorf("initialising Helm for namespace %s: %w", ns, err)
	}
	e.cluster = &Cluster{Clients: clients, Namespace: ns, Action: cfg,
		Exec: podexec.Kube{Client: clients.Kube, Config: clients.Config}}
	return e.cluster, nil
}

// namespace is the TPE namespace commands work in (Cluster's), read from the kubeconfig without
// building clients.
func (e *Env) namespace() string {
	if e.cluster != nil {
		return e.cluster.Namespace
	}
	ns, explicit, err := e.Settings.RESTClientGetter().ToRawKubeConfigLoader().Namespace()
	if err != nil {
		// No readable kubeconfig: -n (or HELM_NAMESPACE) alone.
		return kube.TPENamespace(e.Settings.Namespace(), false)
	}
	return kube.TPENamespace(ns, explicit)
}

// runExec is the Executor of an install/upgrade run: it finds each Deployment's pod once
// (podexec.PodCache; the runner forgets them after each chart, which may replace them).
func (c *Cluster) runExec() podexec.Executor {
	if k, ok := c.Exec.(podexec.Kube); ok && k.Pods == nil {
		k.Pods = &podexec.PodCache{}
		return k
	}
	return c.Exec
}

// serverVersion reads the cluster's version once (zero, with a warning, when it cannot be read).
func (e *Env) serverVersion(cl *Cluster) prereq.ServerVersion {
	v, err := cl.Clients.Discovery.ServerVersion()
	if err != nil {
		fmt.Fprintf(e.Streams.ErrOut, "warning: cannot read the cluster's version: %v\n", err)
		return prereq.ServerVersion{}
	}
	return prereq.ServerVersion{Major: v.Major, Minor: v.Minor, GitVersion: v.GitVersion}
}

// debugf is Helm's debug log: visible only with --debug (HELM_DEBUG) or klog -v.
func (e *Env) debugf(format string, v ...any) {
	if e.Settings.Debug {
		fmt.Fprintf(e.Streams.ErrOut, "[debug] "+strings.TrimSuffix(format, "\n")+"\n", v...)
		return
	}
	klog.V(4).Infof(format, v...)
}

// UnreachableError is kube.UnreachableError with what to check, in helm's flag names.
type UnreachableError struct{ Err *kube.UnreachableError }

func (e *UnreachableError) Error() string {
	return e.Err.Error() + ": check that KUBECONFIG (or --kubeconfig) and --kube-context name the TPE cluster and that it is up; --request-timeout sets how long to wait"
}

func (e *UnreachableError) Unwrap() error { return e.Err }
