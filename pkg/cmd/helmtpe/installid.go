package helmtpe

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// installationID reads the installation ID from, in order: the file, $HELM_TPE_INSTALLATION_ID,
// the values' global.installationId, a prompt without echo. It is never a flag value (shell
// history). It returns the ID and where it came from.
func installationID(file string, vals values.Values, in io.Reader, errOut io.Writer) (id, from string, err error) {
	defer func() { redact.Of(errOut).Add(id) }()
	if file != "" {
		id, err := charts.ReadIDFile(file)
		if err != nil {
			return "", "", fmt.Errorf("--installation-id-file: %w", err)
		}
		return id, "--installation-id-file", nil
	}
	if id := strings.TrimSpace(os.Getenv(EnvInstallationID)); id != "" {
		return id, "$" + EnvInstallationID, nil
	}
	if vals != nil {
		if id := vals.InstallationID(); id != "" {
			return id, "values global.installationId", nil
		}
	}
	f, ok := in.(*os.File)
	if !ok || !cli.IsTerminal(in) {
		return "", "", fmt.Errorf("no installation ID: pass --installation-id-file FILE, set %s, or set global.installationId in a values file (-f); it is never read from a plain flag", EnvInstallationID)
	}
	fmt.Fprint(errOut, "Installation ID (input hidden): ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(errOut)
	if err != nil {
		return "", "", fmt.Errorf("reading the installation ID: %w", err)
	}
	id = strings.TrimSpace(string(b))
	if id == "" {
		return "", "", fmt.Errorf("no installation ID entered")
	}
	return id, "prompt", nil
}

// hideValues makes the output streams of the command (w is one of them) hide the secrets of
// vals from now on, wherever they appear: the values' secrets in a message, a table, an error.
func hideValues(w io.Writer, vals values.Values) {
	redact.Of(w).Add(redact.Strings(redact.FromValues(vals))...)
}
