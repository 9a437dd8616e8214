{{/*
The parts of a silo pod both roles share; each takes (dict "root" $ "role" "<coordinator|gpu-worker>").
*/}}

{{- define "anomaly-clustering.podAnnotations" -}}
checksum/config: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
{{- if .root.Values.telemetry.prometheusEndpoint }}
prometheus.io/scrape: "true"
prometheus.io/port: "9464"
prometheus.io/path: /metrics
{{- end }}
{{- with .root.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "anomaly-clustering.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1654
runAsGroup: 1654
fsGroup: 1654
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "anomaly-clustering.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
{{- end }}

{{- define "anomaly-clustering.ports" -}}
- name: http
  containerPort: 8080
- name: metrics
  containerPort: 9464
- name: silo
  containerPort: 11111
- name: gateway
  containerPort: 30000
{{- end }}

{{/* Downward API identity, role and secrets; the shared settings come from the ConfigMap (envFrom). */}}
{{- define "anomaly-clustering.siloEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: Orleans__SiloName
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: Orleans__AdvertisedIPAddress
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: AnomalyClustering__Roles
  value: {{ .role }}
- name: ConnectionStrings__Redis
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.name }}
      key: redis-connection-string
{{- if not .root.Values.storage.serviceUri }}
- name: ConnectionStrings__Blobs
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.name }}
      key: blob-connection-string
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: service.instance.id=$(POD_NAME),k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE),k8s.node.name=$(NODE_NAME),k8s.deployment.name={{ include "anomaly-clustering.fullname" .root }}-{{ .role }}
{{- end }}

{{/* startupProbe allows failureThreshold x periodSeconds for the first start (loading backbones). */}}
{{- define "anomaly-clustering.probes" -}}
startupProbe:
  httpGet:
    path: /health/live
    port: http
  periodSeconds: 10
  failureThreshold: 60
livenessProbe:
  httpGet:
    path: /health/live
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /health/ready
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
lifecycle:
  preStop:
    sleep:
      seconds: {{ .root.Values.preStopSleepSeconds }}
{{- end }}

{{- define "anomaly-clustering.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .root.Values.backbones.volume }}
- name: backbones
  mountPath: {{ .root.Values.backbones.mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{- define "anomaly-clustering.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 2Gi
{{- with .root.Values.backbones.volume }}
- name: backbones
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
