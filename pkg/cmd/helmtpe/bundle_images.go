package helmtpe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/ociimages"
)

// imageFlags are the flags of `bundle create` that carry the images in the bundle.
type imageFlags struct {
	Images       bool
	Platforms    []string
	CacheDir     string
	MaxImageSize string
}

func (f *imageFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.Images, "images", false, "carry the images in the bundle (an OCI image layout), pulled from their registries; without it the bundle lists them only")
	cmd.Flags().StringArrayVar(&f.Platforms, "platform", []string{ociimages.DefaultPlatform}, "with --images, the platform (os/arch[/variant]) a multi-platform image is reduced to (repeatable)")
	cmd.Flags().StringVar(&f.CacheDir, "cache-dir", "", "with --images, the `DIR` that keeps the layers pulled, so that a rerun downloads only what it lacks (default <user cache dir>/helm-tpe/images)")
	cmd.Flags().StringVar(&f.MaxImageSize, "max-image-size", "16Gi", "with --images, the largest image (all its layers) the bundle accepts; a larger one is refused, never truncated")
}

// cacheDir is --cache-dir, or its default under the user's cache directory.
func cacheDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory (%w): pass --cache-dir", err)
	}
	return filepath.Join(base, "helm-tpe", "images"), nil
}

// layout returns the airgap.Deps.Layout of --images (nil without it): the images are resolved,
// their total size printed, then downloaded into the cache with a progress line per image.
func (f *imageFlags) layout(registryConfig string, errOut io.Writer) (func(context.Context, *bundle.Manifest) ([]bundle.File, []bundle.Blob, error), error) {
	if !f.Images {
		return nil, nil
	}
	q, err := resource.ParseQuantity(f.MaxImageSize)
	if err != nil || q.Value() <= 0 {
		return nil, fmt.Errorf("--max-image-size %q is not a size (e.g. 16Gi, 500Mi)", f.MaxImageSize)
	}
	dir, err := cacheDir(f.CacheDir)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, m *bundle.Manifest) ([]bundle.File, []bundle.Blob, error) {
		refs := m.Images()
		fmt.Fprintf(errOut, "Resolving %d image(s) for %v\n", len(refs), f.Platforms)
		plan, err := ociimages.Resolve(ctx, ociimages.Config{Images: refs, Platforms: f.Platforms, Keychain: ociimages.Keychain(registryConfig),
			CacheDir: dir, MaxImageSize: q.Value()})
		if err != nil {
			return nil, nil, imagesError(err)
		}
		fmt.Fprintf(errOut, "Images: %d, %s to store (%s in the cache %s, %s to download); %s referenced, each layer stored once\n",
			len(plan.Images), bundle.Size(plan.Size), bundle.Size(plan.Cached), dir, bundle.Size(plan.Download), bundle.Size(plan.Referenced))
		if err := plan.Fetch(ctx, imageProgress(errOut)); err != nil {
			return nil, nil, imagesError(err)
		}
		files, blobs, lay, err := plan.Layout()
		if err != nil {
			return nil, nil, err
		}
		m.Layout = lay
		return files, blobs, nil
	}, nil
}

// imagesError words the errors of the images with the flags that change them.
func imagesError(err error) error {
	var tl *ociimages.TooLargeError
	var pe *ociimages.PlatformError
	var ce *ociimages.CacheError
	switch {
	case errors.As(err, &tl):
		return fmt.Errorf("%w: raise --max-image-size if it is expected", err)
	case errors.As(err, &pe):
		return fmt.Errorf("--platform: %w", err)
	case errors.As(err, &ce):
		return fmt.Errorf("%w: free space there, or pass another --cache-dir", err)
	}
	return err
}

// imageProgress prints the bytes of each image: a line at each quarter and one when it is done.
func imageProgress(w io.Writer) func(ociimages.Progress) {
	quarter := map[string]int64{}
	return func(p ociimages.Progress) {
		switch {
		case p.Finished && p.Present:
			fmt.Fprintf(w, "  %s: already there\n", p.Image)
		case p.Finished:
			fmt.Fprintf(w, "  %s: %s done\n", p.Image, bundle.Size(p.Done))
		case p.Total > 0 && p.Done*4/p.Total > quarter[p.Image]:
			quarter[p.Image] = p.Done * 4 / p.Total
			fmt.Fprintf(w, "  %s: %s / %s\n", p.Image, bundle.Size(p.Done), bundle.Size(p.Total))
		}
	}
}
