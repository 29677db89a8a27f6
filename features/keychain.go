package features

import (
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// envKeychain reads DEVCONTAINERS_OCI_AUTH, a comma-separated list of
// "registry|username|token" entries, which the reference CLI consults before the Docker
// configuration.
type envKeychain struct{}

// Resolve returns the credentials for the registry, or anonymous.
func (envKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	for _, entry := range strings.Split(os.Getenv("DEVCONTAINERS_OCI_AUTH"), ",") {
		parts := strings.SplitN(strings.TrimSpace(entry), "|", 3)
		if len(parts) == 3 && parts[0] == target.RegistryStr() {
			return authn.FromConfig(authn.AuthConfig{Username: parts[1], Password: parts[2]}), nil
		}
	}
	return authn.Anonymous, nil
}
