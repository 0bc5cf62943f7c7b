package redact

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestRedaction(t *testing.T) {
	r := New("abcdefghij1234", "")
	if got := r.String("user abcdefghij1234 x"); got != "user ****1234 x" {
		t.Errorf("String = %q", got)
	}
	if err := r.Error(fmt.Errorf("GET https://abcdefghij1234:abcdefghij1234@h/: 401")); strings.Contains(err.Error(), "abcdefghij1234") {
		t.Errorf("Error = %v", err)
	}
	if Mask("short") != "****" {
		t.Errorf("short secrets must be hidden completely")
	}
}

func TestURLs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"backup http://AKIA:SECRET@minio.example:9000/b ok", "backup http://****:****@minio.example:9000/b ok"},
		{"s3://AKIA:SE%2FCRET@bucket", "s3://****:****@bucket"},
		{"https://token@github.com/x", "https://****@github.com/x"},
		{`"url":"HTTPS://u:p@h"`, `"url":"HTTPS://****:****@h"`},
		{"(oci://a:b@r.example/c), http://c:d@e", "(oci://****:****@r.example/c), http://****:****@e"},
		{"https://host/path?mail=a@b.example", "https://host/path?mail=a@b.example"},
		{"mail me at ops@example.com", "mail me at ops@example.com"},
		{"http://minio:9000/bucket", "http://minio:9000/bucket"},
	} {
		if got := URLs(tc.in); got != tc.want {
			t.Errorf("URLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var nilRed *Redactor
	if got := nilRed.String("http://a:b@h"); got != "http://****:****@h" {
		t.Errorf("a nil Redactor must still mask URL credentials: %q", got)
	}
}

func TestAddAndWriter(t *testing.T) {
	r := New()
	var buf bytes.Buffer
	w := r.Writer(&buf)
	fmt.Fprintln(w, "id abcdefghij1234 at http://k:v@h")
	r.Add("abcdefghij1234", "  ")
	r.Add("abcdefghij1234")
	fmt.Fprintln(w, "id abcdefghij1234 and "+"YWJjZGVmZ2hpajEyMzQ=")
	want := "id abcdefghij1234 at http://****:****@h\nid ****1234 and ****\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
	if !r.Holds("x abcdefghij1234") || r.Holds("nothing") || len(r.Secrets()) != 1 {
		t.Errorf("Holds/Secrets: %v", r.Secrets())
	}
	if f, ok := w.(interface{ Fd() uintptr }); !ok || f.Fd() != ^uintptr(0) {
		t.Errorf("a Writer over a buffer has no descriptor")
	}
}
