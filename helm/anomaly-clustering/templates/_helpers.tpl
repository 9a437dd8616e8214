{{/* The chart's name, as a label value (at most 63 characters). */}}
{{- define "anomaly-clustering.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: the release name, plus the chart name unless it already holds it. */}}
{{- define "anomaly-clustering.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "anomaly-clustering.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "anomaly-clustering.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: anomaly-clustering
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one role; call with (dict "root" $ "component" "coordinator"). */}}
{{- define "anomaly-clustering.selectorLabels" -}}
app.kubernetes.io/name: {{ include "anomaly-clustering.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "anomaly-clustering.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "anomaly-clustering.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "anomaly-clustering.configName" -}}
{{- include "anomaly-clustering.fullname" . }}-config
{{- end }}

{{/* image reference; call with (dict "root" $ "image" .Values.image.silo). */}}
{{- define "anomaly-clustering.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}
