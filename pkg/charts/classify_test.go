package charts

import (
	"errors"
	"testing"
)

// TestClassifyStatusNotURL checks that the HTTP status is read from the end of Helm's error, not
// from the URL: a repository on port 44013 or 40301 answering 404 is not "installation ID rejected".
func TestClassifyStatusNotURL(t *testing.T) {
	tests := []struct {
		url, msg, kind string
	}{
		{"http://127.0.0.1:44013/charts", "looks like \"http://127.0.0.1:44013/charts\" is not a valid chart repository or cannot be reached: failed to fetch http://127.0.0.1:44013/charts/index.yaml : 404 Not Found", "not-found"},
		{"http://127.0.0.1:40301/charts", "failed to fetch http://127.0.0.1:40301/charts/index.yaml : 500 Internal Server Error", "server"},
		{"http://127.0.0.1:45000/charts", "failed to fetch http://127.0.0.1:45000/charts/index.yaml : 401 Unauthorized", "rejected"},
		{"http://127.0.0.1:45000/charts", "failed to fetch http://127.0.0.1:45000/charts/index.yaml : 403 Forbidden", "rejected"},
		{"http://127.0.0.1:40401/charts", "failed to fetch http://127.0.0.1:40401/charts/index.yaml : 503 Service Unavailable", "server"},
		{"http://127.0.0.1:40401/charts", "Get \"http://127.0.0.1:40401/charts/index.yaml\": dial tcp 127.0.0.1:40401: connect: connection refused", "unreachable"},
		{"http://127.0.0.1:5555/charts", "error converting YAML to JSON: yaml: line 7: did not find expected key", "invalid-index"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.url, func(t *testing.T) {
			var re *RepoError
			if err := classify(tt.url, "--url", errors.New(tt.msg)); !errors.As(err, &re) || re.Kind != tt.kind {
				t.Fatalf("classify(%q) = %v, want kind %s", tt.msg, err, tt.kind)
			}
		})
	}
}
