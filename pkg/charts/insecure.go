package charts

import (
	"net"
	"net/url"
	"strings"
)

// PlainHTTP reports whether the repository URL u would carry the installation ID (sent as basic
// auth to the chart repository) in clear: an http:// URL whose host is not a loopback address
// (127.0.0.0/8, ::1, localhost). On a loopback address nothing leaves the machine (a local
// mirror, an SSH or kubectl port-forward tunnel).
func PlainHTTP(u string) bool {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || !strings.EqualFold(p.Scheme, "http") {
		return false
	}
	host := p.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// InsecureURLError is a repository URL that would send the installation ID in clear (PlainHTTP)
// when the operator did not accept it. URL is the repository URL, without credentials.
type InsecureURLError struct {
	URL string
}

// Error implements error.
func (e *InsecureURLError) Error() string {
	return "the chart repository " + e.URL + " is plain http: the installation ID (the repository's user and password) would cross the network in clear"
}
