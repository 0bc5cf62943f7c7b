{{/*
Shared templates of the fixture TPE charts (testdata/charts). Pods never really run (kwok), so
images are placeholders; what matters is the shape: names, replicas, PVCs, priority classes.
*/}}

{{/* tpe-fixture.guard: fails the render when fixture.failRender (or failRenderQuoting) is true. */}}
{{- define "tpe-fixture.guard" -}}
{{- if and .Values.fixture .Values.fixture.failRender -}}
{{- fail (printf "%s %s: fixture.failRender is set, this chart refuses to render" .Chart.Name .Chart.Version) -}}
{{- end -}}
{{- if and .Values.fixture .Values.fixture.failRenderQuoting -}}
{{- fail (printf "%s %s: fixture.failRenderQuoting is set, refusing installation ID %v and global.backup %v" .Chart.Name .Chart.Version .Values.global.installationId .Values.global.backup) -}}
{{- end -}}
{{- end -}}

{{/* tpe-fixture.labels: dict root name */}}
{{- define "tpe-fixture.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: thingpark-enterprise
helm.sh/chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* tpe-fixture.image: dict root image. global.imageRegistry (unset by default), as the bitnami
charts' key: every image comes from that registry, under its path without its original host (an
image already under it is left as it is). The e2e tests point it at a registry of theirs. */}}
{{- define "tpe-fixture.image" -}}
{{- $img := .image }}
{{- with .root.Values.global }}{{ with .imageRegistry }}
{{- if not (hasPrefix (printf "%s/" .) $img) }}
{{- $parts := splitList "/" $img }}
{{- if and (gt (len $parts) 1) (regexMatch "[.:]|^localhost$" (first $parts)) }}{{ $parts = rest $parts }}{{ end }}
{{- $img = printf "%s/%s" . (join "/" $parts) }}
{{- end }}
{{- end }}{{ end }}
{{- $img }}
{{- end -}}

{{/* tpe-fixture.podspec: dict root name image priorityClassName cpu memory unschedulable */}}
{{- define "tpe-fixture.podspec" -}}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .root.Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
- name: {{ . }}
{{- end }}
{{- end }}
containers:
- name: {{ .name }}
  image: {{ include "tpe-fixture.image" (dict "root" .root "image" .image) }}
  resources:
    requests:
      cpu: {{ if .unschedulable }}"1000"{{ else }}{{ .cpu | default "50m" }}{{ end }}
      memory: {{ .memory | default "128Mi" }}
{{- end -}}

{{/* tpe-fixture.statefulset: dict root name replicas image priorityClassName storageClass size cpu memory unschedulable
     A headless Service plus a StatefulSet with one volumeClaimTemplate "data". */}}
{{- define "tpe-fixture.statefulset" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}-headless
  labels: {{- include "tpe-fixture.labels" . | nindent 4 }}
spec:
  clusterIP: None
  selector: {app.kubernetes.io/name: {{ .name }}, app.kubernetes.io/instance: {{ .root.Release.Name }}}
  ports: [{name: main, port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .name }}
  labels: {{- include "tpe-fixture.labels" . | nindent 4 }}
spec:
  serviceName: {{ .name }}-headless
  replicas: {{ .replicas }}
  podManagementPolicy: Parallel
  selector:
    matchLabels: {app.kubernetes.io/name: {{ .name }}, app.kubernetes.io/instance: {{ .root.Release.Name }}}
  template:
    metadata:
      labels: {{- include "tpe-fixture.labels" . | nindent 8 }}
    spec: {{- include "tpe-fixture.podspec" . | nindent 6 }}
  {{- if .size }}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      {{- with .storageClass }}
      storageClassName: {{ . }}
      {{- end }}
      resources:
        requests:
          storage: {{ .size }}
  {{- end }}
{{- end -}}

{{/* tpe-fixture.deployment: dict root name replicas image priorityClassName cpu memory */}}
{{- define "tpe-fixture.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  labels: {{- include "tpe-fixture.labels" . | nindent 4 }}
spec:
  replicas: {{ .replicas | default 1 }}
  selector:
    matchLabels: {app.kubernetes.io/name: {{ .name }}, app.kubernetes.io/instance: {{ .root.Release.Name }}}
  template:
    metadata:
      labels: {{- include "tpe-fixture.labels" . | nindent 8 }}
    spec: {{- include "tpe-fixture.podspec" . | nindent 6 }}
{{- end -}}
