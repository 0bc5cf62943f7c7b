package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsUpToDate fails when docs/commands does not match the command trees: run `make docs`.
func TestDocsUpToDate(t *testing.T) {
	problems, err := Stale(filepath.Join("..", "..", "docs", "commands"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("docs/commands: %s (run make docs)", p)
	}
}

func TestVerifyDetectsStalePages(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir, os.Stderr); err != nil {
		t.Fatalf("fresh pages: %v", err)
	}
	page := filepath.Join(dir, "kubectl_tpe_version.md")
	if err := os.WriteFile(page, []byte("edited by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kubectl_tpe_gone.md"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "helm_tpe_version.md")); err != nil {
		t.Fatal(err)
	}
	err := Verify(dir, os.Stderr)
	if err == nil {
		t.Fatal("Verify passed stale pages")
	}
	for _, want := range []string{"kubectl_tpe_version.md differs", "kubectl_tpe_gone.md documents no command", "helm_tpe_version.md is missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
}

func TestPagesDoNotDependOnTheMachine(t *testing.T) {
	t.Setenv("HELM_NAMESPACE", "machine-specific")
	t.Setenv("KUBECONFIG", "/machine/specific")
	home, _ := os.UserHomeDir() // before Generate pins HOME
	pages, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range pages {
		s := string(b)
		if strings.Contains(s, "machine-specific") || strings.Contains(s, "/machine/specific") {
			t.Errorf("%s shows an environment variable's value", name)
		}
		if home != "" && home != "~" && strings.Contains(s, home+"/") {
			t.Errorf("%s shows this machine's home directory %s", name, home)
		}
	}
	for _, want := range []string{"kubectl_tpe.md", "kubectl_tpe_completion.md", "helm_tpe.md", "helm_tpe_env.md", "README.md"} {
		if _, ok := pages[want]; !ok {
			t.Errorf("no page %s", want)
		}
	}
}
