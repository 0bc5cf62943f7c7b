package helmtpe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/images"
	"github.com/thingpark-tools/kubectl-tpe/pkg/input"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/ociimages"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// BundlePushOptions are the options of `helm tpe bundle push`.
type BundlePushOptions struct {
	File          string
	Registry      string
	CAFile        string
	Username      string
	PasswordStdin bool
	Insecure      bool
	ValueFiles    []string
	ValuesFile    string
	CacheDir      string
	Output        string
	// Key is --key: the public key the bundle must be signed with (CheckSignature).
	Key string

	env    *Env
	format cli.Format
	genericiooptions.IOStreams
}

// BundlePushResult is what `bundle push` did.
type BundlePushResult struct {
	Bundle   string             `json:"bundle"`
	Registry string             `json:"registry"`
	Images   []ociimages.Pushed `json:"images"`
	Values   map[string]any     `json:"values"`
	Keys     []images.Key       `json:"keys"`
	NotMoved []string           `json:"notRedirected,omitempty"`
	File     string             `json:"valuesFile,omitempty"`
	layout   *bundle.Layout
}

// NewCmdBundlePush builds `helm tpe bundle push`.
func NewCmdBundlePush(env *Env) *cobra.Command {
	o := &BundlePushOptions{Output: "table", env: env, IOStreams: env.Streams}
	cmd := &cobra.Command{
		Use:   "push FILE --registry HOST[/PATH] [--ca-file FILE] [--username USER --password-stdin] [-f VALUES]... [--output-file FILE]",
		Short: "Push the images a release bundle carries into the site's registry, and print the values that take them from it",
		Long: templates.LongDesc(`
			Push the images of a release bundle built with "bundle create --images" into the site's
			registry, then print the values file that points the charts at it, and check that every
			image can be pulled from it by digest.

			The bundle is read and verified first (a damaged image is named, nothing is pushed); its
			layers are extracted into the cache directory (--cache-dir). Each image goes under its path
			without its original registry host, with its tag, keeping its digest: quay.io/strimzi/operator:0.33.2
			becomes HOST/PATH/strimzi/operator:0.33.2. A blob or manifest the registry already has is not
			sent again (it is asked first), so a push that was interrupted (the registry down, a Ctrl-C)
			resumes when run again.

			The values are the keys "helm tpe images --registry" finds in the bundle's charts, rendered
			with your values (-f) and checked by rendering again; they are printed on stdout, or written
			to --output-file. Pass them with -f to "helm tpe plan|install|upgrade --bundle". Images that no
			values key moves are listed on stderr.

			The login to the registry is --username with the password on stdin (--password-stdin), else
			Helm's registry configuration (--registry-config, as "helm registry login" writes it), else the
			Docker configuration (docker login, $DOCKER_CONFIG). --ca-file adds the CA of the registry's
			certificate; --insecure-skip-tls-verify skips the check of it (a lab only). No password is
			printed or logged.

			With --key, the bundle must be signed with that public key's private key and unchanged since
			(as "bundle verify --key" checks it): nothing is pushed otherwise.

			Exit codes: 0 the images are pushed and pullable, 1 error.`),
		Example: templates.Examples(`
			# Push into the site's registry, and keep the values that take the images from it
			helm tpe bundle push tpe-v7.3.1.tar.gz --registry registry.site.example/tpe --ca-file site-ca.pem --output-file mirror-values.yaml

			# With a login given on stdin
			cat registry-password | helm tpe bundle push tpe-v7.3.1.tar.gz --registry registry.site.example/tpe --username tpe --password-stdin

			# Then upgrade with them
			helm tpe upgrade --bundle tpe-v7.3.1.tar.gz -f values.yaml -f mirror-values.yaml`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Registry, "registry", "", "the site's registry (HOST or HOST/PATH) to push the images into (required)")
	cmd.Flags().StringVar(&o.CAFile, "ca-file", "", "PEM `FILE` of the CA of the registry's certificate")
	cmd.Flags().StringVar(&o.Username, "username", "", "user of the registry (the password is read from stdin with --password-stdin)")
	cmd.Flags().BoolVar(&o.PasswordStdin, "password-stdin", false, "read the registry's password from stdin")
	cmd.Flags().BoolVar(&o.Insecure, "insecure-skip-tls-verify", false, "do not check the registry's certificate (a lab registry only)")
	cmd.Flags().StringArrayVarP(&o.ValueFiles, "values", "f", nil, "values files the charts are rendered with to find the keys (repeatable)")
	cmd.Flags().StringVar(&o.ValuesFile, "output-file", "", "write the values that take the images from the registry to this `FILE` instead of stdout")
	cmd.Flags().StringVar(&o.CacheDir, "cache-dir", "", "the `DIR` the bundle's layers are extracted into (default <user cache dir>/helm-tpe/images)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table (the values as YAML), wide, json or yaml (what was pushed, and the values)")
	cmd.Flags().StringVar(&o.Key, "key", "", "public key `FILE` (cosign's format) the bundle must be signed with: an unsigned bundle, one signed with another key or changed since is refused before anything is pushed; without --key a bundle is accepted on its checksums alone")
	_ = cmd.MarkFlagRequired("registry")
	return cmd
}

// Validate checks the flags.
func (o *BundlePushOptions) Validate() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	if o.Registry, err = checkRegistry(o.Registry); err != nil {
		return err
	}
	switch {
	case o.PasswordStdin && o.Username == "":
		return errors.New("--password-stdin needs --username")
	case o.Username != "" && !o.PasswordStdin:
		return errors.New("--username needs --password-stdin: the password is read from stdin, never from the command line")
	}
	if _, err := os.Stat(o.File); err != nil {
		return fmt.Errorf("the bundle %s cannot be read: %w", o.File, errors.Unwrap(err))
	}
	return nil
}

// Run pushes the images and prints the values.
func (o *BundlePushOptions) Run(ctx context.Context) error {
	vals, err := values.LoadContext(ctx, o.ValueFiles)
	if err != nil {
		return err
	}
	hideValues(o.ErrOut, vals)
	var auth authn.Authenticator
	if o.PasswordStdin {
		pw, err := input.Read(ctx, input.Kind{Name: "password", Max: 4 << 10}, o.In, "stdin")
		if err != nil {
			return fmt.Errorf("--password-stdin: %w", err)
		}
		p := strings.TrimRight(string(pw), "\r\n")
		if p == "" {
			return errors.New("--password-stdin: stdin holds no password")
		}
		auth = &authn.Basic{Username: o.Username, Password: p}
	}
	var ca []byte
	if o.CAFile != "" {
		if ca, err = input.ReadFile(ctx, input.PEM, o.CAFile); err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
	}
	tr, err := ociimages.Transport(ca, o.Insecure)
	if err != nil {
		return fmt.Errorf("--ca-file %s: %w", o.CAFile, err)
	}
	dir, err := cacheDir(o.CacheDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "Reading and verifying %s\n", o.File)
	b, err := bundle.OpenWith(o.File, bundle.ReadOptions{Blob: ociimages.CacheSink(dir)})
	if err != nil {
		return pushError(err)
	}
	if o.Key != "" {
		if _, err := CheckSignature(b, "--key", o.Key); err != nil {
			return err
		}
	}
	if b.Manifest.Layout == nil {
		return fmt.Errorf("the bundle %s carries no images: build it with bundle create --images", o.File)
	}
	lay := b.Manifest.Layout
	fmt.Fprintf(o.ErrOut, "Pushing %d image(s), %s, into %s\n", len(lay.Images), bundle.Size(lay.Size), o.Registry)
	pushed, err := ociimages.Push(ctx, b, ociimages.PushConfig{CacheDir: dir, Auth: auth, Keychain: ociimages.Keychain(o.env.Settings.RegistryConfig),
		Transport: tr, Target: func(ref string) (string, error) { return images.InMirror(ref, o.Registry), nil }}, imageProgress(o.ErrOut))
	if err != nil {
		return pushError(err)
	}
	res := &BundlePushResult{Bundle: o.File, Registry: o.Registry, Images: pushed, Values: map[string]any{}, layout: lay}
	if err := o.mirrorValues(ctx, b, vals, res); err != nil {
		return err
	}
	return o.write(res)
}

// mirrorValues finds, for every release of the bundle, the keys that take its images from the
// registry (the keys of `helm tpe images --registry`), merged into one values file.
func (o *BundlePushOptions) mirrorValues(ctx context.Context, b *bundle.Bundle, vals map[string]any, res *BundlePushResult) error {
	src := charts.NewBundleSource(b)
	notMoved := map[string]bool{}
	seenKey := map[string]bool{}
	for _, r := range b.Manifest.Releases {
		rep, err := images.List(ctx, images.Config{Release: r.Release, Charts: src, Values: vals, Namespace: manifest.DefaultNamespace, Registry: o.Registry})
		if err != nil {
			return fmt.Errorf("finding the values keys of %s: %w", r.Release.Name, err)
		}
		res.Values = values.Merge(res.Values, rep.KeysValues())
		for _, k := range rep.Keys {
			if id := k.Chart + " " + k.Key; !seenKey[id] {
				seenKey[id] = true
				res.Keys = append(res.Keys, k)
			}
		}
		for _, i := range rep.NotRedirected {
			if !notMoved[i] {
				notMoved[i] = true
				res.NotMoved = append(res.NotMoved, i)
			}
		}
	}
	return nil
}

func (o *BundlePushOptions) write(res *BundlePushResult) error {
	y, err := yaml.Marshal(res.Values)
	if err != nil {
		return err
	}
	doc := fmt.Sprintf("# Values that take the images of %s from %s (helm tpe bundle push): pass them with -f\n%s", o.File, o.Registry, y)
	if o.ValuesFile != "" {
		if err := os.WriteFile(o.ValuesFile, []byte(doc), 0o644); err != nil {
			return fmt.Errorf("--output-file: %w", err)
		}
		res.File = o.ValuesFile
	}
	for _, i := range res.NotMoved {
		fmt.Fprintf(o.ErrOut, "warning: no values key moves %s: it was pushed under the same path, the charts still name its original registry\n", i)
	}
	if !o.format.IsTable() {
		return cli.WriteData(o.Out, o.format, res)
	}
	fmt.Fprintf(o.ErrOut, "%d image(s) pushed into %s and pulled back by digest (%s stored, %s referenced by the images)\n",
		len(res.Images), o.Registry, bundle.Size(res.layout.Size), bundle.Size(res.layout.Referenced))
	if o.ValuesFile != "" {
		fmt.Fprintf(o.Out, "Values written to %s: add -f %s to helm tpe plan|install|upgrade --bundle %s\n", o.ValuesFile, o.ValuesFile, o.File)
		return nil
	}
	_, err = o.Out.Write([]byte(doc))
	return err
}

// pushError words the errors of a push with the flags that change them.
func pushError(err error) error {
	var ce *ociimages.CacheError
	switch {
	case errors.As(err, &ce):
		return fmt.Errorf("%w: free space there, or pass another --cache-dir", err)
	case ociimages.Unauthorized(err):
		return fmt.Errorf("%w; pass --username and --password-stdin, or log in with helm registry login", err)
	case ociimages.Unreachable(err):
		return fmt.Errorf("%w; run the same command again when it is back: what was pushed is not sent again", err)
	}
	return err
}
