package charts

import "testing"

func TestPlainHTTP(t *testing.T) {
	for u, want := range map[string]bool{
		"http://charts.example.com/charts": true,
		"HTTP://10.0.0.5:8080":             true,
		"http://[::1]:8080/charts":         false,
		"http://127.0.0.1:39999/charts":    false,
		"http://localhost/charts":          false,
		"https://charts.example.com":       false,
		"oci://registry.example.com/tpe":   false,
		"":                                 false,
	} {
		if got := PlainHTTP(u); got != want {
			t.Errorf("PlainHTTP(%q) = %v, want %v", u, got, want)
		}
	}
}
