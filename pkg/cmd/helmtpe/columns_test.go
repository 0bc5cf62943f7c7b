package helmtpe

import "os"

// The tests of this package compare whole output: a COLUMNS exported by the shell that runs
// them would fit it to a terminal (cli.Width). Tests of the fitting set COLUMNS themselves.
func init() { _ = os.Unsetenv("COLUMNS") }
