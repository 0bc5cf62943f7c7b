# install.ps1 -- install/update hook of the helm-tpe Helm plugin on Windows (see install.sh; same rules):
# a source checkout (go.mod present) is built with `go build`; an unpacked release archive must hold
# bin\helm-tpe.exe. It never downloads anything.
$ErrorActionPreference = 'Stop'
$dir = $env:HELM_PLUGIN_DIR
if (-not $dir) { Write-Error 'HELM_PLUGIN_DIR is not set: this hook is run by helm plugin install'; exit 1 }
$bin = Join-Path $dir 'bin\helm-tpe.exe'
if (-not (Test-Path (Join-Path $dir 'go.mod'))) {
  if (Test-Path $bin) { Write-Output "helm-tpe: using the release binary $bin"; exit 0 }
  Write-Error "$bin is missing and $dir has no go.mod to build it from: install a release archive of helm-tpe or a source checkout"
  exit 1
}
if (-not (Get-Command go -ErrorAction SilentlyContinue)) {
  if (Test-Path $bin) { Write-Output "helm-tpe: no Go toolchain on PATH, keeping the existing $bin"; exit 0 }
  Write-Error 'building helm-tpe from source needs Go (see go.mod for the version) on PATH, or install a release archive of helm-tpe'
  exit 1
}
$version = (Select-String -Path (Join-Path $dir 'plugin.yaml') -Pattern '^version:\s*"?([^"]+)"?\s*$' | Select-Object -First 1).Matches[0].Groups[1].Value
Write-Output "helm-tpe: building v$version from source in $dir"
Push-Location $dir
try {
  $env:CGO_ENABLED = '0'
  & go build -trimpath -ldflags "-s -w -X github.com/thingpark-tools/kubectl-tpe/pkg/cli.version=v$version" -o $bin ./cmd/helm-tpe
  if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
} finally { Pop-Location }
Write-Output "helm-tpe: built $bin"
