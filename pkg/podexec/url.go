package podexec

import (
	"errors"
	"net/url"

	"k8s.io/streaming/pkg/httpstream"
)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// httpstreamIsUpgradeFailure falls back from WebSockets to SPDY when the upgrade itself failed,
// as kubectl does.
func httpstreamIsUpgradeFailure(err error) bool {
	var uf *httpstream.UpgradeFailureError
	return errors.As(err, &uf) || httpstream.IsHTTPSProxyError(err)
}
