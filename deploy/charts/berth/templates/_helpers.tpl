{{/* Labels of every object of the release. */}}
{{- define "berth.labels" -}}
app.kubernetes.io/part-of: berth
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The name label of a component: include "berth.name" (list . "berth-hub"). */}}
{{- define "berth.name" -}}
app.kubernetes.io/name: {{ index . 1 }}
{{- end -}}

{{/* Selector labels of a component: include "berth.selector" (list . "berth-hub"). */}}
{{- define "berth.selector" -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
{{- end -}}

{{/* An image reference: {reference} as given, else repository:tag with the tag defaulting to appVersion. */}}
{{- define "berth.image" -}}
{{- $root := index . 0 -}}{{- $img := index . 1 -}}
{{- if $img.reference -}}
{{- $img.reference -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default $root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* The spoke's namespace on the hub. */}}
{{- define "berth.spokeHubNamespace" -}}
{{- default (printf "berth-member-%s" .Values.spoke.memberName) .Values.spoke.hubNamespace -}}
{{- end -}}

{{/* The Pod security context of both binaries: static, non-root images. */}}
{{- define "berth.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The container security context of both binaries. */}}
{{- define "berth.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}
