package redact

import (
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
