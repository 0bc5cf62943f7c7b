#!/usr/bin/env bash
# operator-rbac.sh NAMESPACE [USER] -- prints the RBAC (YAML) that grants USER (default tpe-operator)
# exactly the TPE application-operator profile in NAMESPACE (the TPE cluster prerequisites): the `admin`
# ClusterRole bound in the namespace, plus all verbs on kafka.strimzi.io and psmdb.percona.com
# resources there. Pipe it to `kubectl apply -f -` as a cluster admin.
set -euo pipefail
NS=${1:?namespace} U=${2:-tpe-operator}
cat <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tpe-operator-admin, namespace: $NS, labels: {tpe.test/harness: operator}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: $U}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tpe-operator-data-crs, namespace: $NS, labels: {tpe.test/harness: operator}}
rules:
- apiGroups: [kafka.strimzi.io, psmdb.percona.com]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tpe-operator-data-crs, namespace: $NS, labels: {tpe.test/harness: operator}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tpe-operator-data-crs}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: $U}]
YAML
