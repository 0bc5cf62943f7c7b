package ociimages

import (
	"os"

	"github.com/docker/cli/cli/config"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Keychain finds the credentials of a registry as Helm and crane do: in Helm's registry
// configuration file (registryConfig, a Docker config file; skipped when it does not exist), then
// in the Docker configuration ($DOCKER_CONFIG/config.json, ~/.docker/config.json, with its
// credential helpers), else anonymous.
func Keychain(registryConfig string) authn.Keychain {
	var ks []authn.Keychain
	if registryConfig != "" {
		if st, err := os.Stat(registryConfig); err == nil && !st.IsDir() {
			ks = append(ks, fileKeychain{path: registryConfig})
		}
	}
	return authn.NewMultiKeychain(append(ks, authn.DefaultKeychain)...)
}

// fileKeychain reads the credentials of one Docker config file.
type fileKeychain struct{ path string }

// Resolve implements authn.Keychain.
func (k fileKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	f, err := os.Open(k.path)
	if err != nil {
		return authn.Anonymous, nil //nolint:nilerr // a file gone since: the next keychain decides
	}
	defer f.Close()
	cf, err := config.LoadFromReader(f)
	if err != nil {
		return nil, err
	}
	key := target.RegistryStr()
	if key == name.DefaultRegistry {
		key = authn.DefaultAuthKey
	}
	ac, err := cf.GetAuthConfig(key)
	if err != nil {
		return nil, err
	}
	if ac.Username == "" && ac.Password == "" && ac.IdentityToken == "" && ac.RegistryToken == "" && ac.Auth == "" {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: ac.Username, Password: ac.Password, Auth: ac.Auth,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken}), nil
}
