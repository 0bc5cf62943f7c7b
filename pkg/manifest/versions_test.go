package manifest

import (
	"errors"
	"strings"
	"testing"
)

func TestParseVersionsVariants(t *testing.T) {
	want722 := Release{DataControllers: "1.1.1", Data: "1.2.5", ApplicationControllers: "1.1.6", Enterprise: "1.2.25", Source: "VERSIONS"}
	want713 := Release{DataControllers: "1.0.3", Data: "1.1.2", EnterpriseControllers: "1.0.3", Enterprise: "1.1.7", Source: "VERSIONS"}
	tests := []struct {
		name string
		in   string
		want Release
	}{
		{"vendor 7.2.2c", "THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\nTHINGPARK_DATA_VERSION=1.2.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.1.6\nTHINGPARK_ENTERPRISE_VERSION=1.2.25\n", want722},
		{"vendor 7.1.3a (old chart-3 variable)", "THINGPARK_DATA_CONTROLLERS_VERSION=1.0.3\nTHINGPARK_DATA_VERSION=1.1.2\nTHINGPARK_ENTERPRISE_CONTROLLERS_VERSION=1.0.3\nTHINGPARK_ENTERPRISE_VERSION=1.1.7\n", want713},
		{"no final newline", "THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\nTHINGPARK_DATA_VERSION=1.2.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.1.6\nTHINGPARK_ENTERPRISE_VERSION=1.2.25", want722},
		{"CRLF", "THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\r\nTHINGPARK_DATA_VERSION=1.2.5\r\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.1.6\r\nTHINGPARK_ENTERPRISE_VERSION=1.2.25\r\n", want722},
		{"double quotes", "THINGPARK_DATA_CONTROLLERS_VERSION=\"1.1.1\"\nTHINGPARK_DATA_VERSION=\"1.2.5\"\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=\"1.1.6\"\nTHINGPARK_ENTERPRISE_VERSION=\"1.2.25\"\n", want722},
		{"single quotes", "THINGPARK_DATA_CONTROLLERS_VERSION='1.1.1'\nTHINGPARK_DATA_VERSION='1.2.5'\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION='1.1.6'\nTHINGPARK_ENTERPRISE_VERSION='1.2.25'\n", want722},
		{"export, comments, blank lines, indentation, BOM", "\ufeff# TPE 7.2.2c release manifest\n\nexport THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\n  export   THINGPARK_DATA_VERSION=1.2.5   # data stack\n\t# chart 3\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=\"1.1.6\" # renamed in 7.2.2\n\n\nTHINGPARK_ENTERPRISE_VERSION='1.2.25'\n\n", want722},
		{"pre-release version", "THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\nTHINGPARK_DATA_VERSION=1.2.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.1.6\nTHINGPARK_ENTERPRISE_VERSION=1.5.0-rc.1\n",
			Release{DataControllers: "1.1.1", Data: "1.2.5", ApplicationControllers: "1.1.6", Enterprise: "1.5.0-rc.1", Source: "VERSIONS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVersions("VERSIONS", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got.DataControllers != tt.want.DataControllers || got.Data != tt.want.Data ||
				got.ApplicationControllers != tt.want.ApplicationControllers || got.EnterpriseControllers != tt.want.EnterpriseControllers ||
				got.Enterprise != tt.want.Enterprise || got.Source != tt.want.Source {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseVersionsErrors(t *testing.T) {
	const ok4 = "THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\nTHINGPARK_DATA_VERSION=1.2.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.1.6\nTHINGPARK_ENTERPRISE_VERSION=1.2.25\n"
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  []string
	}{
		{"missing variable", "# header\nTHINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.1.6\nTHINGPARK_ENTERPRISE_VERSION=1.2.25\n", 4, []string{"missing THINGPARK_DATA_VERSION"}},
		{"missing chart 3 names both spellings", "THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\nTHINGPARK_DATA_VERSION=1.2.5\nTHINGPARK_ENTERPRISE_VERSION=1.2.25", 3, []string{"THINGPARK_APPLICATION_CONTROLLERS_VERSION", "THINGPARK_ENTERPRISE_CONTROLLERS_VERSION"}},
		{"empty file", "", 1, []string{"missing THINGPARK_DATA_CONTROLLERS_VERSION"}},
		{"duplicate", ok4 + "\nTHINGPARK_DATA_VERSION=1.2.6\n", 6, []string{"THINGPARK_DATA_VERSION is set twice", "first on line 2"}},
		{"both chart-3 names", ok4 + "THINGPARK_ENTERPRISE_CONTROLLERS_VERSION=1.1.6\n", 5, []string{"both set", "line 3"}},
		{"unknown variable", "THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\nTHINGPARK_WIRELESS_VERSION=1.3.4\n", 2, []string{"unknown variable THINGPARK_WIRELESS_VERSION"}},
		{"not semver", "THINGPARK_DATA_CONTROLLERS_VERSION=1.1\n", 1, []string{`"1.1" is not a semantic version`}},
		{"leading v is not semver", "\n\nTHINGPARK_DATA_VERSION=v1.2.5\n", 3, []string{"not a semantic version"}},
		{"empty value", "THINGPARK_DATA_VERSION=\n", 1, []string{"not a semantic version"}},
		{"shell expansion", "THINGPARK_DATA_VERSION=$(curl x)\n", 1, []string{"shell expansions"}},
		{"unterminated quote", "THINGPARK_DATA_VERSION=\"1.2.5\n", 1, []string{"unterminated quote"}},
		{"text after quotes", "THINGPARK_DATA_VERSION=\"1.2.5\" x\n", 1, []string{"unexpected text"}},
		{"not an assignment", "THINGPARK_DATA_VERSION 1.2.5\n", 1, []string{"expected VARIABLE=version"}},
		{"spaces around =", "THINGPARK_DATA_VERSION = 1.2.5\n", 1, []string{"expected VARIABLE=version"}},
		{"CRLF line numbers", "THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\r\n\r\nTHINGPARK_DATA_VERSION=1.2\r\n", 3, []string{"not a semantic version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseVersions("rel/VERSIONS", []byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.Line != tt.wantLine {
				t.Errorf("line = %d, want %d (%v)", pe.Line, tt.wantLine, err)
			}
			if !strings.HasPrefix(err.Error(), "rel/VERSIONS:") {
				t.Errorf("error %q does not start with the file name", err)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestFormatVersionsRoundTripsTheMatrix(t *testing.T) {
	for _, r := range MustLoad().Releases {
		t.Run(r.Name, func(t *testing.T) {
			got, err := ParseVersions(r.Name, []byte(FormatVersions(r)))
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range got.Charts() {
				if c != r.Charts()[i] {
					t.Errorf("chart %d: %+v, want %+v", i+1, c, r.Charts()[i])
				}
			}
		})
	}
}

// FuzzParseVersions checks that the parser never panics, and that whatever it accepts is four
// semantic versions that survive FormatVersions → ParseVersions unchanged.
func FuzzParseVersions(f *testing.F) {
	f.Add([]byte("THINGPARK_DATA_CONTROLLERS_VERSION=1.1.1\nTHINGPARK_DATA_VERSION=1.2.5\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=1.1.6\nTHINGPARK_ENTERPRISE_VERSION=1.2.25\n"))
	f.Add([]byte("export THINGPARK_DATA_CONTROLLERS_VERSION='1.0.3' # x\r\nTHINGPARK_DATA_VERSION=\"1.1.2\"\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseVersions("VERSIONS", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			if pe.Line < 0 {
				t.Fatalf("negative line %d", pe.Line)
			}
			return
		}
		for _, c := range r.Charts() {
			if !IsSemver(c.Version) {
				t.Fatalf("accepted non-semver %q for %s", c.Version, c.Chart)
			}
		}
		again, err := ParseVersions("VERSIONS", []byte(FormatVersions(r)))
		if err != nil {
			t.Fatalf("FormatVersions output does not parse: %v", err)
		}
		for i, c := range again.Charts() {
			if c != r.Charts()[i] {
				t.Fatalf("round trip changed chart %d: %+v → %+v", i+1, r.Charts()[i], c)
			}
		}
	})
}
