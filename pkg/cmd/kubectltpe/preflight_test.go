package kubectltpe

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestPreflightValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(o *PreflightOptions)
		err  string
	}{
		{"defaults", func(*PreflightOptions) {}, ""},
		{"bad output", func(o *PreflightOptions) { o.Output = "xml" }, "-o/--output"},
		{"bad profile", func(o *PreflightOptions) { o.Profile = "root" }, "--profile"},
		{"bad hosting", func(o *PreflightOptions) { o.Hosting = "ovh" }, "--hosting"},
		{"bad segment", func(o *PreflightOptions) { o.Segment = "XS" }, "--segment"},
		{"lower-case segment", func(o *PreflightOptions) { o.Segment = "xl" }, ""},
		{"version and manifest", func(o *PreflightOptions) { o.TPEVersion, o.Manifest = "v7.3.1", "VERSIONS" }, "give one"},
		{"bad fail-on", func(o *PreflightOptions) { o.FailOn = "skip" }, "--fail-on"},
		{"key without cert", func(o *PreflightOptions) { o.TLSKey = "k.pem" }, "--tls-cert"},
		{"bad spelling", func(o *PreflightOptions) { o.PriorityClassNames = "mine" }, "--priority-class-names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewPreflightOptions(genericiooptions.NewTestIOStreamsDiscard())
			tt.mod(o)
			err := o.Validate()
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Validate() = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestPrereqsShow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		want    []string
		wantErr string
	}{
		{[]string{"prereqs", "show", "--hosting", "eks", "--priority-class-names=vendor", "--tpe-version", "v7.3.6"},
			[]string{"name: thingpark-data-path", "value: 1000000", "name: thingpark-csi-gp2-xfs", "provisioner: ebs.csi.aws.com", "name: nginx-tpe"}, ""},
		{[]string{"prereqs", "show", "--hosting", "eks"}, // the newest release: 8.0
			[]string{"name: thingpark-csi-gp3-xfs", "name: thingpark-csi-gp3-ext4", "type: gp3"}, ""},
		{[]string{"prereqs", "show", "--hosting", "eks", "--to", "8.0.0"},
			[]string{"name: thingpark-csi-gp3-xfs", "type: gp3"}, ""},
		{[]string{"prereqs", "show", "--hosting", "eks", "--to", "seven"}, nil, "--to"},
		{[]string{"prereqs", "show", "--hosting", "eks", "--tpe-version", "seven"}, nil, "--to"}, // the older name is an alias
		{[]string{"preflight", "--color", "banana"}, nil, `invalid argument "banana" for "--color" flag: must be auto, always or never`},
		{[]string{"status", "--color", "banana"}, nil, `invalid argument "banana" for "--color" flag`},
		// An unknown release is bad input (its objects would be guessed), naming the known ones.
		{[]string{"prereqs", "show", "--hosting", "eks", "--tpe-version", "v9.9.9"}, nil, `--to: unknown TPE release "v9.9.9": known releases are`},
		{[]string{"prereqs", "show", "--hosting", "eks", "--tpe-version", "V7.3.4C"},
			[]string{"Note: v7.3.4c is an alias of v7.3.6 (the vendor renamed it)", "type: gp2"}, ""},
		{[]string{"prereqs", "show", "--hosting", "other", "--storage-provisioner", "rancher.io/local-path", "-o", "json"},
			[]string{`"kind": "List"`, `"provisioner": "rancher.io/local-path"`, `"volumeBindingMode": "WaitForFirstConsumer"`}, ""},
		{[]string{"prereqs", "show"}, nil, "--hosting is required"},
		{[]string{"prereqs", "show", "--hosting", "other"}, nil, "--storage-provisioner is required with hosting other"},
		// The library names the Config field; the command words it with its flag.
		{[]string{"prereqs", "show", "--hosting", "ovh"}, nil, "--hosting must be one of"},
		{[]string{"prereqs", "show", "--hosting", "eks", "--storage-provisioner", "x"}, nil, "--storage-provisioner only applies to hosting other"},
		{[]string{"prereqs", "show", "--hosting", "eks", "--priority-class-names", "mine"}, nil, "--priority-class-names must be docs or vendor"},
		{[]string{"prereqs", "apply", "--hosting", "aks", "--dry-run=maybe"}, nil, "--dry-run must be"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			root := NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
			root.SetArgs(tt.args)
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// An unknown --tpe-version stops preflight before the cluster is contacted (exit 1).
func TestPreflightUnknownRelease(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	root := NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	root.SetArgs([]string{"preflight", "--tpe-version", "v9.9.9", "--kubeconfig", "/nonexistent"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), `--to: unknown TPE release "v9.9.9": known releases are`) || !strings.Contains(err.Error(), "v7.3.0") {
		t.Fatalf("err = %v", err)
	}
}
