// Package archtest checks docs/architecture.md against the code: every package under pkg/ is
// listed there, imports only the project packages its line allows, and imports Helm only when
// marked [helm]; no package under pkg/ but the command trees and pkg/cli imports cobra or pflag.
package archtest
