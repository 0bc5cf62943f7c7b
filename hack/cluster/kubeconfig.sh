#!/usr/bin/env bash
# kubeconfig.sh PKI_DIR USER SERVER [NAMESPACE] > file -- a kubeconfig with the CA and USER's client
# certificate embedded (so the file can be copied anywhere). Context "USER@tpe-test", namespace NAMESPACE
# (default "default").
set -euo pipefail
P=${1:?pki dir} U=${2:?user} S=${3:?server url} NS=${4:-default}
b64() { base64 -w0 < "$1"; }
cat <<YAML
apiVersion: v1
kind: Config
clusters:
- name: tpe-test
  cluster:
    server: $S
    certificate-authority-data: $(b64 "$P/ca.crt")
users:
- name: $U
  user:
    client-certificate-data: $(b64 "$P/$U.crt")
    client-key-data: $(b64 "$P/$U.key")
contexts:
- name: $U@tpe-test
  context: {cluster: tpe-test, user: $U, namespace: $NS}
current-context: $U@tpe-test
YAML
