package kubectltpe

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/preflight"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rbac"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// completeTLS reads the certificate files (--tls-cert, --tls-key, --tls-ca) into cfg.TLS, or
// takes the certificate of the values, and parses it now, so that a bad PEM fails before the
// cluster is contacted.
func (o *PreflightOptions) completeTLS(ctx context.Context, cfg *preflight.Config) error {
	var err error
	if o.TLSCert != "" {
		in := values.TLSInput{Source: "--tls-cert " + o.TLSCert, KeySource: "--tls-key " + o.TLSKey,
			CASource: "--tls-ca " + o.TLSCA, Hostname: o.Hostname,
			Names: values.TLSNames{Cert: "--tls-cert", Key: "--tls-key", CA: "--tls-ca", Hostname: "--hostname"}}
		if in.CertPEM, err = readFlagFile(ctx, "--tls-cert", input.PEM, o.TLSCert); err != nil {
			return err
		}
		if o.TLSKey != "" {
			if in.KeyPEM, err = readFlagFile(ctx, "--tls-key", input.PEM, o.TLSKey); err != nil {
				return err
			}
		}
		if o.TLSCA != "" {
			if in.CAPEM, err = readFlagFile(ctx, "--tls-ca", input.PEM, o.TLSCA); err != nil {
				return err
			}
		}
		// Parse now, so that a bad PEM fails before the cluster is contacted.
		if _, err := values.CheckTLS(in); err != nil {
			return err
		}
		cfg.TLS = &in
	} else if cfg.HasValues {
		if in, ok := values.TLSFromValues(cfg.Values); ok {
			if _, err := values.CheckTLS(in); err != nil {
				return err
			}
		}
	}
	return nil
}

// reviewer is the reviewer of the user's permissions in namespace (impersonated with --as, or
// through SubjectAccessReviews when impersonation is not allowed).
func (o *PreflightOptions) reviewer(ctx context.Context, namespace string) (rbac.Reviewer, string, error) {
	rc := rbac.ReviewerConfig{Client: o.clients.Kube, Impersonate: o.clients.Config.Impersonate, Namespace: namespace,
		Direct: func() (kubernetes.Interface, error) {
			direct := rest.CopyConfig(o.clients.Config)
			direct.Impersonate, direct.WrapTransport = rest.ImpersonationConfig{}, nil
			direct.Timeout = o.clients.RequestTimeout
			c, err := kube.FromConfig(direct, o.clients.Namespace, o.clients.ExplicitNamespace)
			if err != nil {
				return nil, err
			}
			return c.Kube, nil
		}}
	r, user, err := rbac.NewReviewer(ctx, rc)
	var ie *rbac.ImpersonationError
	if errors.As(err, &ie) {
		return nil, "", fmt.Errorf("--as %w", err)
	}
	return r, user, err
}

// readFlagFile reads the file a flag names as an input of kind k; errors name the flag.
func readFlagFile(ctx context.Context, flag string, k input.Kind, path string) ([]byte, error) {
	data, err := input.ReadFile(ctx, k, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return data, nil
}
