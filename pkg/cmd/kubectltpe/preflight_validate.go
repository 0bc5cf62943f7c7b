package kubectltpe

import (
	"fmt"
	"slices"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/preflight"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
)

// Validate checks the flags alone (no file is read, no request is sent).
func (o *PreflightOptions) Validate() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, check.Formats...); err != nil {
		return err
	}
	if o.Profile != "" && !slices.Contains(preflight.Profiles, o.Profile) {
		return fmt.Errorf("--profile must be admin, operator or all, got %q", o.Profile)
	}
	if o.Hosting != "" && !slices.Contains(prereq.Hostings, o.Hosting) {
		return fmt.Errorf("--hosting must be one of %s, got %q", strings.Join(prereq.Hostings, ", "), o.Hosting)
	}
	if o.Segment != "" && !slices.Contains(preflight.Segments, strings.ToUpper(o.Segment)) {
		return fmt.Errorf("--segment must be S, M, L, XL or XXL, got %q", o.Segment)
	}
	if o.TPEVersion != "" && o.Manifest != "" {
		return fmt.Errorf("--to and --manifest both name the target release: give one")
	}
	if o.FailOn != "fail" && o.FailOn != "warn" {
		return fmt.Errorf("--fail-on must be fail or warn, got %q", o.FailOn)
	}
	if (o.TLSKey != "" || o.TLSCA != "") && o.TLSCert == "" {
		return fmt.Errorf("--tls-key and --tls-ca need --tls-cert")
	}
	if o.PriorityClassNames != prereq.SpellingDocs && o.PriorityClassNames != prereq.SpellingVendor {
		return fmt.Errorf("--priority-class-names must be docs or vendor, got %q", o.PriorityClassNames)
	}
	if o.ProbeTimeout <= 0 || o.NetworkTestTimeout <= 0 || o.PullTimeout <= 0 {
		return fmt.Errorf("--probe-timeout, --network-test-timeout and --pull-timeout must be positive")
	}
	if err := cli.ValidColor(o.Color); err != nil {
		return err
	}
	return o.selection().Validate()
}

// describeSelection is "--only tls --skip tls" as given, for messages.
func (o *PreflightOptions) describeSelection() string {
	var parts []string
	if len(o.Only) > 0 {
		parts = append(parts, "--only "+strings.Join(o.Only, ","))
	}
	if len(o.Skip) > 0 {
		parts = append(parts, "--skip "+strings.Join(o.Skip, ","))
	}
	if len(parts) == 0 {
		return "(every check)"
	}
	return strings.Join(parts, " ")
}

func (o *PreflightOptions) selection() preflight.Selection {
	return preflight.Selection{Only: o.Only, Skip: o.Skip}
}
