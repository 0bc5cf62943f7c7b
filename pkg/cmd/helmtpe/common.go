package helmtpe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/getter"

	"github.com/thingpark-tools/kubectl-tpe/pkg/adminstep"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// EnvInstallationID is the environment variable that may hold the installation ID.
const EnvInstallationID = "HELM_TPE_INSTALLATION_ID"

// targetFlags are --to, --manifest and --refresh.
type targetFlags struct {
	To       string
	Manifest string
	Refresh  bool
	// Note is what --to resolved to, when that is not plain (manifest.Resolution.Note).
	Note string
}

// matrix is the release matrix: the embedded one merged with the releases learned from the
// vendor's configuration repository (read now with --refresh, else from the cache).
func (t *targetFlags) matrix(ctx context.Context, e *Env, errOut io.Writer) (*manifest.Matrix, error) {
	res, err := releaseMatrix(ctx, t.Refresh, e.Settings.RepositoryCache, errOut)
	if err != nil {
		return nil, err
	}
	return res.Matrix, nil
}

func (t *targetFlags) add(cmd *cobra.Command, required bool) {
	cmd.Flags().StringVar(&t.To, "to", t.To, "target TPE `RELEASE` (a tag of helm tpe releases, e.g. v7.3.1)")
	cmd.Flags().StringVar(&t.Manifest, "manifest", t.Manifest, "VERSIONS file of a release the embedded matrix does not know (--to names it)")
	cmd.Flags().BoolVar(&t.Refresh, FlagRefresh, false, "read the vendor's configuration repository for releases this plugin does not know (cached; a failure only warns)")
	if required {
		_ = cmd.MarkFlagRequired("to")
	}
}

// repoFlags select the chart repository, or (addBundle) a release bundle instead.
type repoFlags struct {
	RepoName string
	RepoURL  string
	IDFile   string
	// AllowInsecureHTTP is --allow-insecure-http: send the installation ID to a plain http
	// repository (charts.PlainHTTP) anyway.
	AllowInsecureHTTP bool
	// Bundle is --bundle: the charts come from this release bundle, no repository is contacted.
	Bundle string
	// Key is --key: the public key --bundle must be signed with (CheckSignature).
	Key string

	bundle *bundle.Bundle
}

func (r *repoFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.RepoName, "repo", charts.DefaultRepoName, "`NAME` of the chart repository added by helm tpe repo add")
	cmd.Flags().StringVar(&r.RepoURL, "repo-url", "", "chart repository `URL` to use directly instead of --repo (the installation ID is then read as repo add reads it)")
	cmd.Flags().StringVar(&r.IDFile, "installation-id-file", "", "file holding the installation ID (with --repo-url)")
	addAllowInsecureHTTP(cmd, &r.AllowInsecureHTTP)
}

// FlagAllowInsecureHTTP accepts a plain http chart repository, which receives the installation ID
// in clear.
const FlagAllowInsecureHTTP = "allow-insecure-http"

func addAllowInsecureHTTP(cmd *cobra.Command, v *bool) {
	cmd.Flags().BoolVar(v, FlagAllowInsecureHTTP, false, "accept a plain http chart repository (not on this machine), to which the installation ID is sent in clear; refused without it")
}

// checkPlainHTTP refuses a chart repository URL that would receive the installation ID in clear
// (charts.PlainHTTP), unless allowed; allowed, it warns.
func checkPlainHTTP(u, from string, allowed bool, errOut io.Writer) error {
	if !charts.PlainHTTP(u) {
		return nil
	}
	e := &charts.InsecureURLError{URL: u}
	if !allowed {
		return fmt.Errorf("%s: %w: use its https URL, or pass --%s to send it anyway on a network you trust", from, e, FlagAllowInsecureHTTP)
	}
	fmt.Fprintf(errOut, "warning: %s (--%s)\n", e, FlagAllowInsecureHTTP)
	return nil
}

// addBundle adds --bundle.
func (r *repoFlags) addBundle(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.Bundle, "bundle", "", "release bundle `FILE` (made by helm tpe bundle create) to take the charts from instead of a repository: nothing is downloaded")
	cmd.Flags().StringVar(&r.Key, "key", "", "public key `FILE` (cosign's format) --bundle must be signed with: an unsigned bundle, one signed with another key or changed since is refused before anything is done; without --key a bundle is accepted on its checksums alone")
}

// validateSource checks where the charts come from: --chart-dir must be a directory and excludes
// --repo-url; --bundle excludes every flag that would read the network.
func (r *repoFlags) validateSource(t *targetFlags, chartDir string) error {
	if chartDir != "" {
		if fi, err := os.Stat(chartDir); err != nil || !fi.IsDir() {
			return fmt.Errorf("--chart-dir %s is not a directory", chartDir)
		}
		if r.RepoURL != "" {
			return fmt.Errorf("--chart-dir cannot be used with --repo-url: the charts come from one or the other")
		}
	}
	if r.Bundle == "" {
		if r.Key != "" {
			return fmt.Errorf("--key checks the signature of a release bundle: pass the bundle with --bundle too")
		}
		return nil
	}
	switch {
	case r.RepoURL != "":
		return fmt.Errorf("--bundle cannot be used with --repo-url: the charts come from one or the other")
	case chartDir != "":
		return fmt.Errorf("--bundle cannot be used with --chart-dir: the charts come from one or the other")
	case t.Refresh:
		return fmt.Errorf("--bundle cannot be used with --%s: with a bundle nothing is read from the network", FlagRefresh)
	}
	return nil
}

// openBundle reads and verifies --bundle once, and its signature with --key.
func (r *repoFlags) openBundle() (*bundle.Bundle, error) {
	if r.bundle == nil {
		b, err := bundle.Open(r.Bundle, nil)
		if err != nil {
			return nil, fmt.Errorf("--bundle: %w", err)
		}
		if r.Key != "" {
			if _, err := CheckSignature(b, "--key", r.Key); err != nil {
				return nil, err
			}
		}
		r.bundle = b
	}
	return r.bundle, nil
}

// target returns the release matrix (completed with --bundle's releases) and the target release
// (manifest.ResolveRelease; t.Note says what it resolved to): the one sequence of every command
// that takes --to (and --bundle).
func (r *repoFlags) target(ctx context.Context, e *Env, t *targetFlags, errOut io.Writer) (*manifest.Matrix, manifest.Release, error) {
	m, err := t.matrix(ctx, e, errOut)
	if err != nil {
		return nil, manifest.Release{}, err
	}
	req := manifest.Request{Name: t.To, File: t.Manifest, Context: ctx}
	if r.Bundle != "" {
		b, err := r.openBundle()
		if err != nil {
			return nil, manifest.Release{}, err
		}
		req = b.Manifest.Request(req, r.Bundle)
	}
	if req.Name == "" && req.File == "" && req.Default == "" {
		return nil, manifest.Release{}, fmt.Errorf("--to is required: name the target release (see `helm tpe releases`), or pass a release bundle with --bundle")
	}
	res, err := m.ResolveRelease(req)
	if err != nil {
		return nil, manifest.Release{}, manifest.InputError(err, "--to", "--manifest")
	}
	t.Note = res.Note
	return res.Matrix, res.Release, nil
}

// noteTo prints a resolution's note (manifest.Resolution.Note) once, on one line.
func noteTo(w io.Writer, note string) {
	if note != "" {
		fmt.Fprintf(w, "Note: %s\n", note)
	}
}

// installed resolves the release --from names in m (the note, if any, is returned).
func installed(m *manifest.Matrix, from string) (manifest.Release, string, error) {
	res, err := m.ResolveRelease(manifest.Request{Name: from})
	if err != nil {
		return manifest.Release{}, "", manifest.InputError(err, "--from", "")
	}
	return res.Release, res.Note, nil
}

// source returns where the charts come from: --bundle, else the repository (open).
func (r *repoFlags) source(e *Env, vals values.Values, in io.Reader, errOut io.Writer) (charts.Repository, error) {
	if r.Bundle != "" {
		b, err := r.openBundle()
		if err != nil {
			return nil, err
		}
		return charts.NewBundleSource(b), nil
	}
	return r.open(e, vals, in, errOut)
}

// adminSource returns where the vendor's admin manifests come from: --bundle, else the
// configuration repository over HTTPS (the client of releases --refresh).
func (r *repoFlags) adminSource() adminstep.Source {
	if r.Bundle != "" {
		if b, err := r.openBundle(); err == nil {
			return adminstep.Cached(adminstep.Bundle{B: b, Path: r.Bundle})
		}
		return nil
	}
	return adminstep.Cached(adminstep.Repo{Config: catalog.ConfigFromEnv()})
}

// open returns the chart repository: --repo-url with an installation ID, else --repo from
// Helm's repositories.yaml.
func (r *repoFlags) open(e *Env, vals values.Values, in io.Reader, errOut io.Writer) (*charts.Repo, error) {
	getters := getter.All(e.Settings)
	if r.RepoURL == "" {
		repo, err := charts.LoadRepo(r.RepoName, e.Settings.RepositoryConfig, e.Settings.RepositoryCache, getters)
		var nr *charts.RepoNotReadyError
		switch {
		case errors.As(err, &nr) && nr.NoCredentials:
			return nil, fmt.Errorf("%w: run `helm tpe repo add --repo %s` (user = password = installation ID)", err, nr.Name)
		case errors.As(err, &nr):
			return nil, fmt.Errorf("%w: run `helm tpe repo add --repo %s` first, or pass --repo-url", err, nr.Name)
		case err != nil:
			return nil, err
		}
		redact.Of(errOut).Add(repo.ID)
		if err := checkPlainHTTP(repo.URL, "--repo "+r.RepoName, r.AllowInsecureHTTP, errOut); err != nil {
			return nil, err
		}
		return repo, nil
	}
	if err := checkPlainHTTP(r.RepoURL, "--repo-url", r.AllowInsecureHTTP, errOut); err != nil {
		return nil, err
	}
	id, _, err := installationID(r.IDFile, vals, in, errOut)
	if err != nil {
		return nil, err
	}
	return &charts.Repo{Name: "helm-tpe-direct", URL: r.RepoURL, ID: id, RepoConfig: e.Settings.RepositoryConfig,
		RepoCache: e.Settings.RepositoryCache, Getters: getters, URLFrom: "--repo-url"}, nil
}

// helmFlagNames words an error of pkg/kube with Helm's global flags (--kube-context, not
// kubectl's --context).
func helmFlagNames(err error) error {
	var ke *kube.KubeconfigError
	if errors.As(err, &ke) {
		return ke.WithFlags("--kubeconfig", "--kube-context")
	}
	return err
}

// confirm asks on the terminal; without one, the error says to pass --yes.
func confirm(in io.Reader, errOut io.Writer, prompt string, strict bool) (bool, error) {
	ok, err := cli.Confirm(in, errOut, prompt, strict)
	return ok, cli.NoTerminal(err, "--yes")
}
