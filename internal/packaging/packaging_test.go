package packaging

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const repoRoot = "../.."

// fakeSum is a stand-in sha256 for rendering the krew template without archives: it is derived
// from the archive name, so two platforms never share one.
func fakeSum(archive string) (string, error) {
	s := sha256.Sum256([]byte(archive))
	return hex.EncodeToString(s[:]), nil
}

func renderRepoKrew(t *testing.T, tag string) *KrewPlugin {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join(repoRoot, "krew", "tpe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := RenderKrewTemplate(tmpl, tag, fakeSum)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseKrewManifest(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return p
}

// The six platforms every artifact must cover (issue 7).
var wantPlatforms = []OSArch{
	{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}, {"windows", "arm64"},
}

func TestRepoKrewManifestIsValid(t *testing.T) {
	p := renderRepoKrew(t, "v1.2.3")
	for _, err := range ValidateKrewManifest("krew/tpe.yaml", p) {
		t.Error(err)
	}
	for env, ok := range p.Covered(wantPlatforms) {
		if !ok {
			t.Errorf("krew/tpe.yaml has no platform for %s", env)
		}
	}
	if p.Spec.Version != "v1.2.3" {
		t.Errorf("spec.version = %q, want the tag", p.Spec.Version)
	}
	for _, word := range []string{"admin profile", "operator profile"} {
		if !strings.Contains(p.Spec.Caveats, word) {
			t.Errorf("caveats do not name the rights of the %s", word)
		}
	}
	if p.Spec.Description == "" {
		t.Error("spec.description is empty")
	}
}

func TestKrewManifestMatchesGoReleaserArchives(t *testing.T) {
	const tag = "v1.2.3"
	g, err := LoadGoReleaser(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	archives, err := g.ArchivesFor(tag)
	if err != nil {
		t.Fatal(err)
	}
	_, built, err := g.Build("kubectl-tpe")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range wantPlatforms {
		if !slices.Contains(built, want) {
			t.Errorf(".goreleaser.yaml does not build kubectl-tpe for %s", want)
		}
	}
	p := renderRepoKrew(t, tag)
	n := 0
	for _, a := range archives {
		if a.ID != "kubectl-tpe" {
			continue
		}
		n++
		t.Run(a.Platform.String(), func(t *testing.T) {
			pl, err := p.PlatformFor(a.Platform)
			if err != nil {
				t.Fatal(err)
			}
			if got := path.Base(pl.URI); got != a.Name {
				t.Errorf("krew uri names %s, goreleaser produces %s", got, a.Name)
			}
			if !strings.Contains(pl.URI, "/releases/download/"+tag+"/") {
				t.Errorf("krew uri %s is not the release download of %s", pl.URI, tag)
			}
			if pl.Bin != a.Binary {
				t.Errorf("krew bin = %s, the archive holds %s", pl.Bin, a.Binary)
			}
			content := append([]string{a.Binary}, a.Files...)
			installed := map[string]bool{}
			for _, op := range pl.Files {
				if !slices.Contains(content, op.From) {
					t.Errorf("krew files.from %s is not in archive %s (%v)", op.From, a.Name, content)
				}
				installed[path.Base(op.From)] = true
			}
			// validate-krew-manifest requires a license file among the installed files.
			if !installed["LICENSE"] {
				t.Errorf("krew does not install LICENSE from %s", a.Name)
			}
			if !installed[a.Binary] {
				t.Errorf("krew does not install the binary %s", a.Binary)
			}
		})
	}
	if n != len(p.Spec.Platforms) {
		t.Errorf("goreleaser makes %d kubectl-tpe archives, krew/tpe.yaml has %d platforms", n, len(p.Spec.Platforms))
	}
}

func TestHelmPluginMatchesGoReleaserArchives(t *testing.T) {
	hp, err := LoadHelmPlugin(filepath.Join(repoRoot, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range hp.Validate() {
		t.Error(err)
	}
	if hp.Name != "tpe" {
		t.Errorf("plugin name = %q, want tpe (helm tpe)", hp.Name)
	}
	g, err := LoadGoReleaser(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	archives, err := g.ArchivesFor("v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range archives {
		if a.ID != "helm-tpe" {
			continue
		}
		n++
		t.Run(a.Platform.String(), func(t *testing.T) {
			if !strings.HasPrefix(a.Name, "helm-tpe_v1.2.3_"+a.Platform.OS+"_"+a.Platform.Arch+".") {
				t.Errorf("archive name %s does not follow helm-tpe_<tag>_<os>_<arch>", a.Name)
			}
			c, ok := Command(hp.PlatformCommand, a.Platform.OS, a.Platform.Arch)
			if !ok {
				t.Fatalf("plugin.yaml has no command for %s", a.Platform)
			}
			if got := PluginDirPaths(c); len(got) != 1 || got[0] != a.Binary {
				t.Errorf("plugin.yaml runs %v on %s, the archive holds %s", got, a.Platform, a.Binary)
			}
			for ev, hooks := range hp.PlatformHooks {
				h, ok := Command(hooks, a.Platform.OS, a.Platform.Arch)
				if !ok {
					t.Errorf("plugin.yaml has no %s hook for %s", ev, a.Platform)
					continue
				}
				for _, p := range PluginDirPaths(h) {
					if !slices.Contains(a.Files, p) {
						t.Errorf("%s hook runs %s, which archive %s does not hold", ev, p, a.Name)
					}
					if _, err := os.Stat(filepath.Join(repoRoot, p)); err != nil {
						t.Errorf("%s hook: %v", ev, err)
					}
				}
			}
			for _, f := range []string{"plugin.yaml", "plugin.complete"} {
				if !slices.Contains(a.Files, f) {
					t.Errorf("archive %s lacks %s", a.Name, f)
				}
			}
		})
	}
	if n != len(wantPlatforms) {
		t.Errorf("goreleaser makes %d helm-tpe archives, want %d", n, len(wantPlatforms))
	}
}

// validPlugin is a minimal manifest that passes validation; the cases below break one rule each.
func validPlugin() *KrewPlugin {
	p, err := ParseKrewManifest([]byte(`apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata: {name: tpe}
spec:
  version: v0.1.0
  shortDescription: short
  platforms:
  - selector: {matchLabels: {os: linux, arch: amd64}}
    uri: https://example.invalid/a.tar.gz
    sha256: ` + strings.Repeat("a", 64) + `
    files: [{from: kubectl-tpe, to: .}]
    bin: kubectl-tpe
`))
	if err != nil {
		panic(err)
	}
	return p
}

func TestValidateKrewManifestRules(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		mutate func(p *KrewPlugin)
		want   string // substring of an error; "" = valid
	}{
		{name: "valid", file: "tpe.yaml", mutate: func(*KrewPlugin) {}},
		{name: "api version", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.APIVersion = "krew.googlecontainertools.github.com/v1alpha1" }, want: "apiVersion"},
		{name: "kind", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Kind = "Plugins" }, want: "kind"},
		{name: "file extension", file: "tpe.yml", mutate: func(*KrewPlugin) {}, want: "extension"},
		{name: "name differs from file", file: "other.yaml", mutate: func(*KrewPlugin) {}, want: "metadata.name"},
		{name: "unsafe name", file: "a.b.yaml", mutate: func(p *KrewPlugin) { p.Metadata.Name = "a.b" }, want: "not allowed"},
		{name: "windows reserved name", file: "con.yaml", mutate: func(p *KrewPlugin) { p.Metadata.Name = "con" }, want: "not allowed"},
		{name: "no short description", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.ShortDescription = "" }, want: "shortDescription is empty"},
		{name: "multi-line short description", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.ShortDescription = "a\nb" }, want: "line break"},
		{name: "version without v", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Version = "0.1.0" }, want: "start with v"},
		{name: "version not semver", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Version = "v1.2" }, want: "semantic"},
		{name: "no platforms", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms = nil }, want: "platforms is empty"},
		{name: "http uri", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].URI = "http://example.invalid/a.tar.gz" }, want: "https"},
		{name: "no uri", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].URI = "" }, want: "uri is empty"},
		{name: "uppercase sha", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Sha256 = strings.Repeat("A", 64) }, want: "sha256"},
		{name: "short sha", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Sha256 = "abc" }, want: "sha256"},
		{name: "no bin", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Bin = "" }, want: "bin is empty"},
		{name: "empty files", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Files = []KrewFileOperation{} }, want: "files is empty"},
		{name: "file without to", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Files[0].To = "" }, want: "to is empty"},
		{name: "file without from", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Files[0].From = "" }, want: "from is empty"},
		{name: "unclean to", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Files[0].To = "a/../b" }, want: "clean"},
		{name: "no selector", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Selector = nil }, want: "selector is missing"},
		{name: "selector key", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Selector.MatchLabels["distro"] = "x" }, want: "not supported"},
		{name: "selector matches nothing", file: "tpe.yaml", mutate: func(p *KrewPlugin) { p.Spec.Platforms[0].Selector.MatchLabels["os"] = "plan9" }, want: "matches no platform"},
		{name: "overlapping selectors", file: "tpe.yaml", mutate: func(p *KrewPlugin) {
			q := p.Spec.Platforms[0]
			q.Selector = q.Selector.DeepCopy()
			delete(q.Selector.MatchLabels, "arch")
			p.Spec.Platforms = append(p.Spec.Platforms, q)
		}, want: "overlapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPlugin()
			tt.mutate(p)
			errs := ValidateKrewManifest(tt.file, p)
			if tt.want == "" {
				for _, err := range errs {
					t.Error(err)
				}
				return
			}
			for _, err := range errs {
				if strings.Contains(err.Error(), tt.want) {
					return
				}
			}
			t.Errorf("want an error containing %q, got %v", tt.want, errs)
		})
	}
}

func TestRenderKrewTemplateNeedsEveryChecksum(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join(repoRoot, "krew", "tpe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{"kubectl-tpe_v1.0.0_linux_amd64.tar.gz": strings.Repeat("b", 64)}
	_, err = RenderKrewTemplate(tmpl, "v1.0.0", ChecksumLookup(sums))
	if err == nil || !strings.Contains(err.Error(), "kubectl-tpe_v1.0.0_linux_arm64.tar.gz") {
		t.Fatalf("want an error naming the first archive without checksum, got %v", err)
	}
}

func TestParseChecksums(t *testing.T) {
	good := strings.Repeat("c", 64) + "  a.tar.gz\n" + strings.Repeat("d", 64) + "  b.zip\n"
	sums, err := ParseChecksums([]byte(good))
	if err != nil || sums["b.zip"] != strings.Repeat("d", 64) || len(sums) != 2 {
		t.Fatalf("ParseChecksums = %v, %v", sums, err)
	}
	if _, err := ParseChecksums([]byte("nothex  a.tar.gz\n")); err == nil {
		t.Fatal("a line without a sha256 must be an error")
	}
}

type entry struct {
	name, body string
	mode       int64
}

func writeTarGz(t *testing.T, file string, entries []entry) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() error }{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func writeZip(t *testing.T, file string, entries []entry) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(os.FileMode(e.mode))
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestKrewInstall(t *testing.T) {
	entries := []entry{{"kubectl-tpe", "#!/bin/sh\necho tpe\n", 0o755}, {"LICENSE", "license", 0o644}, {"docs/a.md", "a", 0o644}}
	files := []KrewFileOperation{{From: "kubectl-tpe", To: "."}, {From: "LICENSE", To: "."}}
	tests := []struct {
		name    string
		archive string
		files   []KrewFileOperation
		bin     string
		badSum  bool
		want    string // error substring; "" = installs
		wantIn  []string
	}{
		{name: "tar.gz", archive: "a.tar.gz", files: files, bin: "kubectl-tpe", wantIn: []string{"kubectl-tpe", "LICENSE"}},
		{name: "zip", archive: "a.zip", files: files, bin: "kubectl-tpe", wantIn: []string{"kubectl-tpe", "LICENSE"}},
		{name: "default files take everything", archive: "a.tar.gz", bin: "kubectl-tpe", wantIn: []string{"kubectl-tpe", "LICENSE", "docs/a.md"}},
		{name: "glob", archive: "a.tar.gz", files: []KrewFileOperation{{From: "docs/*.md", To: "doc"}, {From: "kubectl-*", To: "."}}, bin: "kubectl-tpe", wantIn: []string{"doc/a.md", "kubectl-tpe"}},
		{name: "sha mismatch", archive: "a.tar.gz", files: files, bin: "kubectl-tpe", badSum: true, want: "sha256"},
		{name: "from matches nothing", archive: "a.tar.gz", files: []KrewFileOperation{{From: "nothing*", To: "."}}, bin: "kubectl-tpe", want: "no file"},
		{name: "to leaves the directory", archive: "a.tar.gz", files: []KrewFileOperation{{From: "kubectl-tpe", To: "../x"}}, bin: "kubectl-tpe", want: "leaves"},
		{name: "bin not installed", archive: "a.tar.gz", files: []KrewFileOperation{{From: "LICENSE", To: "."}}, bin: "kubectl-tpe", want: "not installed"},
		{name: "bin outside", archive: "a.tar.gz", files: files, bin: "../../x", want: "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			archive := filepath.Join(dir, tt.archive)
			if strings.HasSuffix(archive, ".zip") {
				writeZip(t, archive, entries)
			} else {
				writeTarGz(t, archive, entries)
			}
			sum, err := fileSHA256(archive)
			if err != nil {
				t.Fatal(err)
			}
			if tt.badSum {
				sum = strings.Repeat("0", 64)
			}
			root := filepath.Join(dir, "krew")
			link, err := KrewInstall(root, "tpe", "v0.1.0", archive, KrewPlatform{Sha256: sum, Files: tt.files, Bin: tt.bin}, false)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("want an error containing %q, got %v", tt.want, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(link) != "kubectl-tpe" || filepath.Dir(link) != filepath.Join(root, "bin") {
				t.Errorf("link = %s, want <root>/bin/kubectl-tpe", link)
			}
			target, err := os.Readlink(link)
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(target); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("linked binary %s is not executable: %v", target, err)
			}
			for _, f := range tt.wantIn {
				if _, err := os.Stat(filepath.Join(root, "store", "tpe", "v0.1.0", f)); err != nil {
					t.Errorf("%s not installed: %v", f, err)
				}
			}
		})
	}
}

func TestExtractRefusesEscapingEntries(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "evil.tar.gz")
	writeTarGz(t, archive, []entry{{"../evil", "x", 0o644}})
	if err := Extract(archive, filepath.Join(dir, "out")); err == nil || !strings.Contains(err.Error(), "leaves") {
		t.Fatalf("want an error for ../evil, got %v", err)
	}
}
