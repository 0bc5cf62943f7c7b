package complete

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

func TestValues(t *testing.T) {
	tests := []struct {
		name, typed string
		fn          Func
		want        []string
	}{
		{name: "hosting all", fn: Hosting(), want: []string{"aks", "eks", "gke", "other"}},
		{name: "hosting prefix", typed: "g", fn: Hosting(), want: []string{"gke"}},
		{name: "no match", typed: "x", fn: Hosting(), want: []string{}},
		{name: "formats", typed: "j", fn: OutputFormats("table", "json", "junit", "yaml"), want: []string{"json", "junit"}},
		{name: "profiles", typed: "o", fn: Profiles(), want: []string{"operator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dir := tt.fn(nil, nil, tt.typed)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if dir != cobra.ShellCompDirectiveNoFileComp {
				t.Errorf("directive = %v, want NoFileComp", dir)
			}
		})
	}
}

func TestReleases(t *testing.T) {
	got, _ := Releases()(nil, nil, "v7.3.")
	if !slices.Contains(got, "v7.3.1") || slices.Contains(got, "v7.2.2c") {
		t.Errorf("releases for v7.3.: %v", got)
	}
	for _, r := range got {
		if r[:5] != "v7.3." {
			t.Errorf("%s does not start with v7.3.", r)
		}
	}
}

func TestNamespaces(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/namespaces" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"NamespaceList","apiVersion":"v1","items":[
			{"metadata":{"name":"default"}},{"metadata":{"name":"thingpark-enterprise"}},{"metadata":{"name":"tpe-staging"}}]}`))
	}))
	defer srv.Close()
	flags := genericclioptions.NewConfigFlags(false)
	flags.APIServer = &srv.URL
	got, dir := Namespaces(flags)(&cobra.Command{}, nil, "t")
	if want := []string{"thingpark-enterprise", "tpe-staging"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if dir != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("directive = %v", dir)
	}

	down := "http://127.0.0.1:1"
	flags.APIServer = &down
	if got, _ := Namespaces(flags)(&cobra.Command{}, nil, ""); len(got) != 0 {
		t.Errorf("unreachable cluster: got %v, want nothing", got)
	}
}

func TestTreeWiresFlagsByName(t *testing.T) {
	root := &cobra.Command{Use: "root"}
	child := &cobra.Command{Use: "child", Run: func(*cobra.Command, []string) {}}
	var s string
	child.Flags().StringVar(&s, "hosting", "", "")
	child.Flags().StringVar(&s, "to", "", "")
	child.Flags().StringVarP(&s, "output", "o", "", "output format: table, json, yaml or junit")
	other := &cobra.Command{Use: "other", Run: func(*cobra.Command, []string) {}}
	other.Flags().StringVarP(&s, "output", "o", "", "where to write the file")
	root.AddCommand(child, other)
	Tree(root)
	for _, name := range []string{"hosting", "to", "output"} {
		if _, ok := child.GetFlagCompletionFunc(name); !ok {
			t.Errorf("--%s has no completion", name)
		}
	}
	fn, _ := child.GetFlagCompletionFunc("output")
	if got, _ := fn(child, nil, ""); !slices.Equal(got, []string{"table", "json", "yaml", "junit"}) {
		t.Errorf("--output completes %v", got)
	}
	if _, ok := other.GetFlagCompletionFunc("output"); ok {
		t.Error("an --output flag that names no format must not complete formats")
	}
	if Flag(child, "hosting", Profiles()) {
		t.Error("Flag must keep an existing completion")
	}
	if Flag(child, "missing", Profiles()) {
		t.Error("Flag must skip a flag the command does not have")
	}
}
