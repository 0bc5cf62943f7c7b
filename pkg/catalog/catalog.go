// Package catalog learns TPE releases from the vendor's configuration repository
// (github.com/actility/thingpark-enterprise-kubernetes) without a new plugin: it reads the VERSIONS
// file of every tag and of the main branch over HTTPS, checks each with the same parser as
// --manifest, caches the result with its date and source, and merges it with the embedded release
// matrix. An embedded release is never overridden: a learned release that differs from it is a
// conflict, reported and not used. It imports no Helm package.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// Default addresses of the vendor's configuration repository.
const (
	DefaultAPIBase = "https://api.github.com/repos/actility/thingpark-enterprise-kubernetes"
	DefaultRawBase = "https://raw.githubusercontent.com/actility/thingpark-enterprise-kubernetes"
	DefaultBranch  = "main"
)

// Environment variables that override the addresses (tests, mirrors).
const (
	EnvAPIBase = "HELM_TPE_CONFIG_REPO_API"
	EnvRawBase = "HELM_TPE_CONFIG_REPO_RAW"
)

// CacheFile is the name of the cache file in the cache directory.
const CacheFile = "tpe-releases.json"

// maxBody bounds every response read (a VERSIONS file is 4 lines; the tag list a few KiB).
const maxBody = 4 << 20

// Config says where to read the configuration repository.
type Config struct {
	// APIBase is the GitHub REST API address of the repository (tags and branches).
	APIBase string
	// RawBase serves raw files as <RawBase>/<ref>/<path>.
	RawBase string
	// Branch is the branch whose VERSIONS file is read besides the tags (main).
	Branch string
	// Client defaults to an http.Client with a 30 s timeout.
	Client *http.Client
	// Now defaults to time.Now.
	Now func() time.Time
	// AppVersion, when set, returns the appVersion the chart repository gives a chart version
	// ("" when unknown): it names a release published on the branch without a tag.
	AppVersion func(chart, version string) string
}

// ConfigFromEnv returns the default Config, with the addresses overridden by EnvAPIBase and
// EnvRawBase when set.
func ConfigFromEnv() Config {
	c := Config{APIBase: DefaultAPIBase, RawBase: DefaultRawBase, Branch: DefaultBranch}
	if v := os.Getenv(EnvAPIBase); v != "" {
		c.APIBase = v
	}
	if v := os.Getenv(EnvRawBase); v != "" {
		c.RawBase = v
	}
	return c
}

func (c Config) withDefaults() Config {
	if c.APIBase == "" {
		c.APIBase = DefaultAPIBase
	}
	if c.RawBase == "" {
		c.RawBase = DefaultRawBase
	}
	if c.Branch == "" {
		c.Branch = DefaultBranch
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.APIBase = strings.TrimRight(c.APIBase, "/")
	c.RawBase = strings.TrimRight(c.RawBase, "/")
	return c
}

// Ref is one VERSIONS file read from the repository: a tag, or the branch.
type Ref struct {
	// Name is the tag or the branch.
	Name string `json:"name"`
	// Commit is the commit the ref pointed at.
	Commit string `json:"commit,omitempty"`
	// Branch is true for the branch, false for a tag.
	Branch bool `json:"branch,omitempty"`
	// Release holds the chart versions; its Name is the tag (empty for the branch).
	Release manifest.Release `json:"release"`
	// For the branch: the commit that last wrote its VERSIONS file, its message and date (the
	// vendor publishes an untagged release as "Release thingpark-enterprise X.Y.Z"), and the
	// appVersion the chart repository gives its thingpark-enterprise chart, when known.
	VersionsCommit string `json:"versionsCommit,omitempty"`
	Message        string `json:"message,omitempty"`
	Date           string `json:"date,omitempty"`
	AppVersion     string `json:"appVersion,omitempty"`
}

// Problem is a ref whose VERSIONS file could not be used; it is skipped, not fatal.
type Problem struct {
	Ref string `json:"ref"`
	Err string `json:"error"`
}

// Catalog is what one refresh learned, as cached.
type Catalog struct {
	// FetchedAt is when the repository was read.
	FetchedAt time.Time `json:"fetchedAt"`
	// Source is the repository address (the API base).
	Source   string    `json:"source"`
	Refs     []Ref     `json:"refs"`
	Problems []Problem `json:"problems,omitempty"`
}

// Fetch reads the tags and the branch of the repository and the VERSIONS file of each. Listing the
// tags must succeed; a VERSIONS file that is missing or does not parse is recorded in Problems.
func Fetch(ctx context.Context, cfg Config) (*Catalog, error) {
	cfg = cfg.withDefaults()
	tags, err := listTags(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cat := &Catalog{FetchedAt: cfg.Now().UTC(), Source: cfg.APIBase}
	var refs []Ref
	for _, t := range tags {
		if _, err := manifest.ParseTag(t.Name); err != nil {
			continue // not a release tag
		}
		refs = append(refs, Ref{Name: t.Name, Commit: t.Commit.SHA})
	}
	if sha, err := branchCommit(ctx, cfg); err != nil {
		cat.Problems = append(cat.Problems, Problem{Ref: cfg.Branch, Err: err.Error()})
	} else {
		refs = append(refs, Ref{Name: cfg.Branch, Commit: sha, Branch: true})
	}

	var mu sync.Mutex // guards cat.Refs and cat.Problems
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, r := range refs {
		g.Go(func() error {
			at := r.Name
			if r.Branch && r.Commit != "" {
				at = r.Commit // read the branch at the commit it was listed at
			}
			u := cfg.RawBase + "/" + url.PathEscape(at) + "/VERSIONS"
			body, err := get(gctx, cfg, u)
			var rel manifest.Release
			if err == nil {
				rel, err = manifest.ParseVersions(u, body)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				cat.Problems = append(cat.Problems, Problem{Ref: r.Name, Err: err.Error()})
				return nil
			}
			if !r.Branch {
				rel.Name = manifest.MustParseTag(r.Name).String()
				rel.Tagged = true
			} else {
				rel.Ref = r.Name
				if cfg.AppVersion != nil {
					r.AppVersion = cfg.AppVersion(manifest.ChartEnterprise, rel.Enterprise)
				}
				// The commit that wrote the VERSIONS: a missing answer only loses a way to name it.
				if c, err := versionsCommit(gctx, cfg, at); err == nil {
					r.VersionsCommit, r.Message, r.Date = c.SHA, c.Commit.Message, c.Commit.Committer.Date
				} else {
					cat.Problems = append(cat.Problems, Problem{Ref: r.Name, Err: "the commit of its VERSIONS: " + err.Error()})
				}
			}
			rel.Commit = r.Commit
			rel.Source = u
			r.Release = rel
			cat.Refs = append(cat.Refs, r)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.Slice(cat.Refs, func(i, j int) bool { return refLess(cat.Refs[i], cat.Refs[j]) })
	sort.Slice(cat.Problems, func(i, j int) bool { return cat.Problems[i].Ref < cat.Problems[j].Ref })
	return cat, nil
}

func refLess(a, b Ref) bool {
	if a.Branch != b.Branch {
		return !a.Branch // tags first, the branch last
	}
	if a.Branch {
		return a.Name < b.Name
	}
	return manifest.MustParseTag(a.Name).Less(manifest.MustParseTag(b.Name)) // tags: their names order them
}

type ghTag struct {
	Name   string `json:"name"`
	Commit struct {
		SHA string `json:"sha"`
	} `json:"commit"`
}

// listTags reads every page of GET <api>/tags.
func listTags(ctx context.Context, cfg Config) ([]ghTag, error) {
	var all []ghTag
	for page := 1; page <= 20; page++ {
		body, err := get(ctx, cfg, fmt.Sprintf("%s/tags?per_page=100&page=%d", cfg.APIBase, page))
		if err != nil {
			return nil, fmt.Errorf("listing the tags of the configuration repository: %w", err)
		}
		var tags []ghTag
		if err := json.Unmarshal(body, &tags); err != nil {
			return nil, fmt.Errorf("listing the tags of the configuration repository: %s: not a tag list: %w", cfg.APIBase, err)
		}
		all = append(all, tags...)
		if len(tags) < 100 {
			break
		}
	}
	return all, nil
}

type ghCommit struct {
	SHA    string `json:"sha"`
	Commit struct {
		Message   string `json:"message"`
		Committer struct {
			Date string `json:"date"`
		} `json:"committer"`
	} `json:"commit"`
}

// versionsCommit reads the newest commit at ref that changed VERSIONS:
// GET <api>/commits?sha=<ref>&path=VERSIONS&per_page=1.
func versionsCommit(ctx context.Context, cfg Config, ref string) (ghCommit, error) {
	body, err := get(ctx, cfg, cfg.APIBase+"/commits?sha="+url.QueryEscape(ref)+"&path=VERSIONS&per_page=1")
	if err != nil {
		return ghCommit{}, err
	}
	var cs []ghCommit
	if err := json.Unmarshal(body, &cs); err != nil || len(cs) == 0 || cs[0].SHA == "" {
		return ghCommit{}, fmt.Errorf("no commit of VERSIONS in the answer")
	}
	return cs[0], nil
}

// branchCommit reads GET <api>/branches/<branch>.
func branchCommit(ctx context.Context, cfg Config) (string, error) {
	body, err := get(ctx, cfg, cfg.APIBase+"/branches/"+url.PathEscape(cfg.Branch))
	if err != nil {
		return "", err
	}
	var b struct {
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Commit.SHA == "" {
		return "", fmt.Errorf("branch %s: no commit in the answer", cfg.Branch)
	}
	return b.Commit.SHA, nil
}

func get(ctx context.Context, cfg Config, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "helm-tpe")
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, nil
}

// Save writes c to dir/CacheFile (dir is created), atomically.
func Save(dir string, c *Catalog) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("release cache: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, CacheFile+".*")
	if err != nil {
		return fmt.Errorf("release cache: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("release cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("release cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, CacheFile)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("release cache: %w", err)
	}
	return nil
}

// LoadCache reads dir/CacheFile; it returns (nil, nil) when there is none. Every cached VERSIONS
// content is checked again, so a hand-edited cache cannot smuggle in an invalid release.
func LoadCache(dir string) (*Catalog, error) {
	p := filepath.Join(dir, CacheFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("release cache: %w", err)
	}
	var c Catalog
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("release cache %s: %w", p, err)
	}
	for _, r := range c.Refs {
		if _, err := manifest.ParseVersions(p+" ("+r.Name+")", []byte(manifest.FormatVersions(r.Release))); err != nil {
			return nil, fmt.Errorf("release cache: %w", err)
		}
		if !r.Branch {
			if _, err := manifest.ParseTag(r.Name); err != nil {
				return nil, fmt.Errorf("release cache %s: %w", p, err)
			}
		}
	}
	return &c, nil
}

// ContainerManifest is the file of the configuration repository that lists a release's images.
const ContainerManifest = "container-manifest.txt"

// ErrNotPublished is returned by FetchFile when the configuration repository has no such file at
// that ref (HTTP 404): the vendor did not publish it for that release.
var ErrNotPublished = errors.New("not published at that ref")

// FetchFile reads one file of the configuration repository at a ref (a tag, a branch or a
// commit), e.g. container-manifest.txt or manifests/upgrade/strimzi-crds-0.32.0.yaml. A 404 is
// ErrNotPublished (wrapped, with the URL).
func FetchFile(ctx context.Context, cfg Config, ref, path string) ([]byte, string, error) {
	cfg = cfg.withDefaults()
	u := cfg.RawBase + "/" + url.PathEscape(ref) + "/" + strings.TrimLeft(path, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, u, err
	}
	req.Header.Set("User-Agent", "helm-tpe")
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return nil, u, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, u, fmt.Errorf("GET %s: %w", u, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, u, fmt.Errorf("GET %s: %w", u, ErrNotPublished)
	case resp.StatusCode != http.StatusOK:
		return nil, u, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, u, nil
}
