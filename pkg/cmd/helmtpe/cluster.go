package helmtpe

import (
	"fmt"
	"os"
	"strings"

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

// setUserAgent makes every client built from Helm's settings announce helm-tpe.
func setUserAgent(settings *helmcli.EnvSettings) {
	cf, ok := settings.RESTClientGetter().(*genericclioptions.ConfigFlags)
	if !ok || cf.WrapConfigFn == nil {
		return
	}
	prev := cf.WrapConfigFn
	cf.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c = prev(c)
		c.UserAgent = UserAgent()
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
// actionConfig.Init(settings.RESTClientGetter(), namespace, $HELM_DRIVER, debug log).
func (e *Env) Cluster() (*Cluster, error) {
	if e.cluster != nil {
		return e.cluster, nil
	}
	getter := e.Settings.RESTClientGetter()
	clients, err := kube.NewClients(getter)
	if err != nil {
		return nil, helmFlagNames(err)
	}
	ns := clients.TPENamespace()
	// Helm's getter must agree: resources without a namespace land in the TPE namespace.
	e.Settings.SetNamespace(ns)
	cfg := new(action.Configuration)
	if err := cfg.Init(getter, ns, os.Getenv("HELM_DRIVER"), e.debugf); err != nil {
		return nil, fmt.Errorf("initialising Helm for namespace %s: %w", ns, err)
	}
	e.cluster = &Cluster{Clients: clients, Namespace: ns, Action: cfg,
		Exec: podexec.Kube{Client: clients.Kube, Config: clients.Config}}
	return e.cluster, nil
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
