{{/* Name of the release's objects. */}}
{{- define "eventplane.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "eventplane.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/part-of: eventplane
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "eventplane.operatorSelector" -}}
app.kubernetes.io/name: eventplane-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The image every binary runs from: repository:tag or repository@digest. */}}
{{- define "eventplane.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "eventplane.operatorServiceAccount" -}}
{{- .Values.operator.serviceAccount.name | default "eventplane-operator" -}}
{{- end -}}

{{/* OpenTelemetry variables for the operator and consumers. */}}
{{- define "eventplane.tracingEnv" -}}
{{- if .Values.tracing.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.tracing.endpoint | quote }}
- name: OTEL_TRACES_SAMPLER
  value: parentbased_traceidratio
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ .Values.tracing.sampleRatio | toString | quote }}
{{- end }}
{{- end -}}

{{/* Restricted container security context (Pod Security "restricted"). */}}
{{- define "eventplane.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Namespaces the operator watches, comma-separated ("" = all): the
release namespace by default with namespaced RBAC. */}}
{{- define "eventplane.watchNamespaces" -}}
{{- $ns := .Values.operator.watchNamespaces -}}
{{- if and (not $ns) (eq .Values.operator.rbac.scope "namespaced") -}}
{{- $ns = list .Release.Namespace -}}
{{- end -}}
{{- join "," $ns -}}
{{- end -}}
