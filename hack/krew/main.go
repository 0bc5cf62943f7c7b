// Command krew renders and checks the krew manifest of kubectl-tpe against a goreleaser dist
// directory, without krew (which cannot be built here):
//
//	go run ./hack/krew render   [-template krew/tpe.yaml] [-dist dist] [-o dist/krew/tpe.yaml]
//	go run ./hack/krew validate -manifest dist/krew/tpe.yaml
//	go run ./hack/krew install  -manifest dist/krew/tpe.yaml -dist dist -root DIR
//
// render fills the krew-release-bot template with the tag of dist/metadata.json and the sha256 of
// dist/checksums.txt (every platform's archive must be there); validate applies krew's manifest
// rules; install does what `kubectl krew install --manifest --archive` does for this machine's
// platform, into DIR (KREW_ROOT), and prints the path of the installed kubectl-tpe link.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"

	"github.com/thingpark-tools/kubectl-tpe/internal/packaging"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: krew render|validate|install [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	tmpl := fs.String("template", "krew/tpe.yaml", "krew-release-bot template")
	dist := fs.String("dist", "dist", "goreleaser dist directory")
	out := fs.String("o", "dist/krew/tpe.yaml", "rendered manifest (render)")
	manifest := fs.String("manifest", "dist/krew/tpe.yaml", "rendered manifest (validate, install)")
	root := fs.String("root", "", "KREW_ROOT of the simulated install (install)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "render":
		return render(*tmpl, *dist, *out)
	case "validate":
		_, err := validate(*manifest)
		return err
	case "install":
		if *root == "" {
			return errors.New("install: -root is required")
		}
		return install(*manifest, *dist, *root)
	default:
		return fmt.Errorf("unknown subcommand %q: want render, validate or install", args[0])
	}
}

func render(tmplFile, dist, out string) error {
	md, _, sums, err := packaging.ReadDist(dist)
	if err != nil {
		return err
	}
	tmpl, err := os.ReadFile(tmplFile)
	if err != nil {
		return fmt.Errorf("read krew template: %w", err)
	}
	b, err := packaging.RenderKrewTemplate(tmpl, md.Tag, packaging.ChecksumLookup(sums))
	if err != nil {
		return fmt.Errorf("%s: %w (make dist builds every platform)", tmplFile, err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Printf("rendered %s for %s into %s\n", tmplFile, md.Tag, out)
	return nil
}

func validate(file string) (*packaging.KrewPlugin, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read krew manifest: %w", err)
	}
	p, err := packaging.ParseKrewManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if errs := packaging.ValidateKrewManifest(file, p); len(errs) > 0 {
		return nil, fmt.Errorf("%s is not a valid krew manifest: %w", file, errors.Join(errs...))
	}
	fmt.Printf("%s: valid krew manifest (%d platforms)\n", file, len(p.Spec.Platforms))
	return p, nil
}

func install(manifest, dist, root string) error {
	p, err := validate(manifest)
	if err != nil {
		return err
	}
	env := packaging.OSArch{OS: runtime.GOOS, Arch: runtime.GOARCH}
	pl, err := p.PlatformFor(env)
	if err != nil {
		return err
	}
	link, err := packaging.KrewInstall(root, p.Metadata.Name, p.Spec.Version, filepath.Join(dist, path.Base(pl.URI)), pl, env.OS == "windows")
	if err != nil {
		return err
	}
	fmt.Println(link)
	return nil
}
