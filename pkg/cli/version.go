package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at link time with -ldflags "-X github.com/thingpark-tools/kubectl-tpe/pkg/cli.version=v1.2.3 ...".
var (
	version = "v0.0.0-dev"
	commit  = ""
	date    = ""
)

// VersionInfo describes the running binary.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"buildDate,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Version returns the version of the running binary. Without link-time values the commit comes
// from the VCS stamp Go embeds when building from a git checkout.
func Version() VersionInfo {
	v := VersionInfo{Version: version, Commit: commit, BuildDate: date, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if v.Commit == "" {
		v.Commit = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v.Commit = s.Value[:12]
				}
			}
		}
	}
	return v
}

// WriteVersion prints v in the format selected with -o.
func WriteVersion(w io.Writer, name string, f Format, v VersionInfo) error {
	if f.IsTable() {
		_, err := fmt.Fprintf(w, "%s %s (commit %s, %s, %s)\n", name, v.Version, v.Commit, v.GoVersion, v.Platform)
		return err
	}
	return WriteData(w, f, v)
}
