package fleetcmd

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

func TestExitIsTheWorstRow(t *testing.T) {
	tests := []struct {
		unreadable, failed, want int
	}{{0, 0, 0}, {0, 2, 2}, {1, 0, 1}, {1, 3, 1}}
	for _, tt := range tests {
		if got := cli.ExitCode(Exit(tt.unreadable, tt.failed, 5)); got != tt.want {
			t.Errorf("Exit(%d unreadable, %d failed) = %d, want %d", tt.unreadable, tt.failed, got, tt.want)
		}
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		f       Flags
		active  bool
		wantErr string
	}{
		{"none", Flags{}, false, ""},
		{"one context is the single-cluster form", Flags{Contexts: []string{"a"}}, false, ""},
		{"the same context twice is one", Flags{Contexts: []string{"a", "a"}}, false, ""},
		{"two contexts", Flags{Contexts: []string{"a", "b"}, Concurrency: 8}, true, ""},
		{"context and fleet", Flags{Contexts: []string{"a"}, File: "f", Concurrency: 8}, true, "give one of them"},
		{"zero concurrency", Flags{AllContexts: true}, true, "--concurrency must be at least 1"},
		{"negative limit", Flags{AllContexts: true, Concurrency: 1, Timeout: -time.Second}, true, "--timeout-per-installation must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.f.Active() != tt.active {
				t.Errorf("Active = %v", tt.f.Active())
			}
			err := tt.f.Validate()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
	cfg := (&Flags{Concurrency: 3}).Config(0, nil)
	if cfg.Concurrency != 3 || cfg.Timeout >= 0 || cfg.RequestTimeout >= 0 {
		t.Errorf("0 means no limit: %+v", cfg)
	}
}

func TestParseRequestTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "0": 0, "30": 30 * time.Second, "2m": 2 * time.Minute} {
		if got, err := ParseRequestTimeout(in); err != nil || got != want {
			t.Errorf("%q: %s, %v", in, got, err)
		}
	}
	if _, err := ParseRequestTimeout("soon"); err == nil {
		t.Error("no error for soon")
	}
}

func TestWrapContextKeepsEveryValue(t *testing.T) {
	var single string
	root := &cobra.Command{Use: "x"}
	root.PersistentFlags().StringVar(&single, "context", "", "")
	WrapContext(root.PersistentFlags(), "context")
	sub := &cobra.Command{Use: "status", RunE: func(*cobra.Command, []string) error { return nil }}
	root.AddCommand(sub)
	root.SetArgs([]string{"status", "--context", "a", "--context", "b"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got := Contexts(sub); strings.Join(got, ",") != "a,b" || single != "b" {
		t.Errorf("Contexts = %v, the flag's own value %q", got, single)
	}
}
