package preflight

import (
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
)

// Profiles are the values of Config.Profile.
var Profiles = []string{ProfileAdmin, ProfileOperator, ProfileAll}

// Segments are the sizing segments of Config.Segment, smallest first.
var Segments = []string{"S", "M", "L", "XL", "XXL"}

// OpenBundle reads the release bundle the site installs from. A bundle that does not verify is
// a failed check of the report (what the site must fix), not bad input: it is returned as
// verifyErr (for Config.BundleErr) with a nil bundle; err is a bundle that cannot be read at all.
func OpenBundle(path string) (b *bundle.Bundle, verifyErr, err error) {
	b, err = bundle.Open(path, nil)
	if err == nil {
		return b, nil, nil
	}
	var be *bundle.Error
	if errors.As(err, &be) {
		return nil, err, nil
	}
	return nil, nil, err
}

// NewRunID labels the probe pods of one run (network test, image pull test), so that a run
// removes only its own.
func NewRunID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
