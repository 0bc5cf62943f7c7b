package ociimages

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Reason words a registry error in one line: refused credentials, a denied access, an unknown
// manifest, a registry that cannot be reached; the registry's own message otherwise. It never
// holds a credential (the registry's URLs here carry none, and the header of a request is not
// quoted).
func Reason(err error) string {
	var te *transport.Error
	if errors.As(err, &te) {
		codes := make([]string, 0, len(te.Errors))
		for _, d := range te.Errors {
			codes = append(codes, string(d.Code))
		}
		code := strings.Join(codes, ", ")
		switch {
		case te.StatusCode == http.StatusUnauthorized:
			return "the registry refused the credentials (401 Unauthorized): check the login for it (docker config, or the credentials given)"
		case te.StatusCode == http.StatusForbidden:
			return "the registry denied access (403 Forbidden): the credentials lack the permission"
		case te.StatusCode == http.StatusNotFound || strings.Contains(code, "MANIFEST_UNKNOWN") || strings.Contains(code, "NAME_UNKNOWN"):
			return "unknown to the registry (" + orStatus(code, te.StatusCode) + "): check the image name and tag"
		}
		return fmt.Sprintf("the registry answered %s", orStatus(code, te.StatusCode))
	}
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "the registry did not answer in time"
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.As(err, &oe):
		return "the registry cannot be reached (" + oneLine(err) + ")"
	case errors.As(err, &ne):
		return "the registry cannot be reached (" + oneLine(err) + ")"
	}
	return oneLine(err)
}

func orStatus(code string, status int) string {
	if code != "" {
		return fmt.Sprintf("%d %s", status, code)
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// Unauthorized reports whether err is a registry refusing the credentials (401).
func Unauthorized(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusUnauthorized
}

// Unreachable reports whether err is a registry that cannot be reached or dropped the connection.
func Unreachable(err error) bool {
	return strings.HasPrefix(Reason(err), "the registry cannot be reached") || strings.HasPrefix(Reason(err), "the registry did not answer")
}
