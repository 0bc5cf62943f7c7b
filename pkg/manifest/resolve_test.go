package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveRelease(t *testing.T) {
	m := MustLoad()
	dir := t.TempDir()
	other := filepath.Join(dir, "VERSIONS")
	if err := os.WriteFile(other, []byte("THINGPARK_DATA_CONTROLLERS_VERSION=9.0.0\nTHINGPARK_DATA_VERSION=9.0.0\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=9.0.0\nTHINGPARK_ENTERPRISE_VERSION=9.0.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bundled := Release{Name: "v8.0.1", Tagged: false, Commit: strings.Repeat("a", 40), DataControllers: "2.2.2", Data: "2.2.3", ApplicationControllers: "2.2.1", Enterprise: "2.0.1"}
	tests := []struct {
		name    string
		req     Request
		want    string
		known   bool
		note    string // "" = no note
		wantErr any
		errHas  string
	}{
		{"plain", Request{Name: "v7.3.1"}, "v7.3.1", true, "", nil, ""},
		{"no v", Request{Name: "7.3.1"}, "v7.3.1", true, "", nil, ""},
		{"upper case", Request{Name: "V7.3.1"}, "v7.3.1", true, "", nil, ""},
		{"alias", Request{Name: "v7.3.4c"}, "v7.3.6", true, "v7.3.4c is an alias of v7.3.6 (the vendor renamed it)", nil, ""},
		{"old alias", Request{Name: "1.1.1"}, "v7.1.1", true, "v1.1.1 is an alias of v7.1.1 (the vendor renamed it)", nil, ""},
		{"untagged", Request{Name: "v7.3.0"}, "v7.3.0", true, "v7.3.0 has no tag in the vendor's repository: its files are read at commit f6efc6fb2b90", nil, ""},
		{"untagged on main", Request{Name: "v8.0.0"}, "v8.0.0", true, "v8.0.0 has no tag in the vendor's repository: its files are read at commit 1b4e0ed53594", nil, ""},
		{"newest", Request{}, "v8.0.0", true, "v8.0.0 is the newest known release; v8.0.0 has no tag", nil, ""},
		{"bundle default", Request{Added: []Release{bundled}, AddedFrom: "bundle b.tgz", Default: "v8.0.1"}, "v8.0.1", true, "v8.0.1 is the target of bundle b.tgz", nil, ""},
		{"bundle named", Request{Name: "v8.0.1", Added: []Release{bundled}, AddedFrom: "bundle b.tgz", Default: "v8.0.1"}, "v8.0.1", true, "v8.0.1 has no tag", nil, ""},
		{"unknown", Request{Name: "v9.9.9"}, "", false, "", &UnknownReleaseError{}, "v7.3.0"},
		{"malformed", Request{Name: "latest"}, "", false, "", &NameError{}, ""},
		{"file named by its charts", Request{File: other, Unnamed: true}, "", false, "", nil, ""},
		{"file unnamed", Request{File: other}, "", false, "", &UnnamedError{}, ""},
		{"file conflicting", Request{File: other, Name: "v7.3.1"}, "v7.3.1", false, "names other charts than the known v7.3.1", nil, ""},
		{"file missing", Request{File: filepath.Join(dir, "nope")}, "", false, "", &FileError{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := m.ResolveRelease(tt.req)
			if tt.wantErr != nil {
				if err == nil || fmt.Sprintf("%T", err) != fmt.Sprintf("%T", tt.wantErr) || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want a %T containing %q", err, tt.wantErr, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Release.Name != tt.want || res.Known != tt.known {
				t.Errorf("resolved %q known=%v, want %q known=%v", res.Release.Name, res.Known, tt.want, tt.known)
			}
			if tt.note == "" && res.Note != "" || !strings.Contains(res.Note, tt.note) {
				t.Errorf("note %q, want %q", res.Note, tt.note)
			}
			if strings.Contains(res.Note, "\n") {
				t.Errorf("note is not one line: %q", res.Note)
			}
		})
	}
}

// The known releases of an error list every release the matrix accepts, untagged ones and
// aliases included.
func TestUnknownListsAccepted(t *testing.T) {
	_, err := MustLoad().Resolve("v9.9.9")
	for _, want := range []string{"v7.2.1", "v7.3.0", "v8.0.0", "v7.3.6 (v7.3.4c)", "v1.1.0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v does not list %s", err, want)
		}
	}
}
