package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thingpark-tools/kubectl-tpe/pkg/catalog"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// TestRunVendorList: images.Run (the images command's one call) takes the vendor's list from a
// file, from nowhere (NoVendor: no request), or from the configuration repository within the
// timeout, and says why it did not compare.
func TestRunVendorList(t *testing.T) {
	rel, src := synthetic()
	rel.Tagged = true
	list := filepath.Join(t.TempDir(), "container-manifest.txt")
	if err := os.WriteFile(list, []byte("quay.io/strimzi/operator:0.33.2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cfg       RunConfig
		fetch     func(ctx context.Context) ([]byte, string, error)
		wantFetch bool
		wantErr   bool
		compared  bool
		note      string
		elsewhere bool
	}{
		{name: "a file", cfg: RunConfig{VendorFile: list}, compared: true},
		{name: "a file that cannot be read", cfg: RunConfig{VendorFile: list + ".missing"}, wantErr: true},
		{name: "none: no request", cfg: RunConfig{NoVendor: true}},
		{name: "the configuration repository", fetch: func(context.Context) ([]byte, string, error) {
			return []byte("quay.io/strimzi/operator:0.33.2\n"), "https://example.com/list", nil
		}, wantFetch: true, compared: true},
		{name: "not published", fetch: func(context.Context) ([]byte, string, error) {
			return nil, "https://example.com/list", catalog.ErrNotPublished
		}, wantFetch: true, note: "the vendor publishes no"},
		{name: "a repository that hangs costs the timeout and a note", cfg: RunConfig{VendorTimeout: 50 * time.Millisecond},
			fetch: func(ctx context.Context) ([]byte, string, error) {
				<-ctx.Done()
				return nil, "", ctx.Err()
			}, wantFetch: true, note: "cannot be read", elsewhere: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fetched := false
			d := Deps{Charts: func(values.Values) (charts.Source, error) { return src, nil },
				FetchVendor: func(ctx context.Context, ref, file string) ([]byte, string, error) {
					fetched = true
					if ref != rel.Name || file != catalog.ContainerManifest {
						return nil, "", fmt.Errorf("fetch %s %s", ref, file)
					}
					if tt.fetch == nil {
						return nil, "", errors.New("unexpected request")
					}
					return tt.fetch(ctx)
				}}
			cfg := tt.cfg
			cfg.Release, cfg.Namespace = rel, "tpe"
			out, err := Run(t.Context(), d, cfg)
			var vfe *VendorFileError
			switch {
			case tt.wantErr:
				if !errors.As(err, &vfe) {
					t.Fatalf("err = %v, want a VendorFileError", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if fetched != tt.wantFetch || (out.Report.Vendor != nil) != tt.compared {
				t.Errorf("fetched %v, compared %v", fetched, out.Report.Vendor != nil)
			}
			if !strings.Contains(out.VendorNote, tt.note) || (tt.note == "") != (out.VendorNote == "") || out.VendorElsewhere != tt.elsewhere {
				t.Errorf("note %q (elsewhere %v), want %q (%v)", out.VendorNote, out.VendorElsewhere, tt.note, tt.elsewhere)
			}
		})
	}
}
