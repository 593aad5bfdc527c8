{{/* Names: <release>-padit unless the release name already says padit. */}}
{{- define "padit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "padit.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The worker StatefulSet; pod names are this plus -0, -1, ... */}}
{{- define "padit.worker.fullname" -}}
{{- printf "%s-worker" (include "padit.fullname" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/* The headless Service that gives each worker its DNS name. */}}
{{- define "padit.worker.headless" -}}
{{- printf "%s-headless" (include "padit.worker.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "padit.adapters.fullname" -}}
{{- printf "%s-adapters" (include "padit.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "padit.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "padit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: padit
{{- end -}}

{{- define "padit.worker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "padit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "padit.adapters.selectorLabels" -}}
app.kubernetes.io/name: {{ include "padit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: adapters
{{- end -}}

{{- define "padit.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "padit.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "padit.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret the pods read: an existing one, or the chart's own. */}}
{{- define "padit.secretName" -}}
{{- default (printf "%s-secrets" (include "padit.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* True when the pods should read secret keys at all. */}}
{{- define "padit.hasSecret" -}}
{{- /* Always: the chart makes a Secret (with at least the API token) or names one. */ -}}
true
{{- end -}}

{{/*
Secret-backed and Kafka security environment shared by workers and adapters. Keys are optional
so that one existing Secret may carry only some of them.
*/}}
{{- define "padit.secretEnv" -}}
{{- if include "padit.hasSecret" . }}
- name: PADIT_WEBHOOK_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "padit.secretName" . }}
      key: {{ .Values.secrets.keys.webhookUrl }}
      optional: true
- name: PADIT_KAFKA_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "padit.secretName" . }}
      key: {{ .Values.secrets.keys.kafkaPassword }}
      optional: true
- name: PADIT_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "padit.secretName" . }}
      key: {{ .Values.secrets.keys.apiToken }}
      optional: true
{{- end }}
{{- end -}}

{{- define "padit.kafkaEnv" -}}
{{- $sec := .Values.kafka.security -}}
- name: PADIT_BROKER
  value: {{ .Values.kafka.broker | quote }}
- name: PADIT_KAFKA_SECURITY_PROTOCOL
  value: {{ $sec.protocol | quote }}
{{- if hasPrefix "SASL_" $sec.protocol }}
- name: PADIT_KAFKA_SASL_MECHANISM
  value: {{ $sec.saslMechanism | quote }}
- name: PADIT_KAFKA_USERNAME
  value: {{ required "kafka.security.username is required with a SASL protocol" $sec.username | quote }}
- name: PADIT_KAFKA_PASSWORD_ENV
  value: PADIT_KAFKA_PASSWORD
{{- if not (or .Values.secrets.existingSecret .Values.secrets.kafkaPassword) }}
{{- fail "a SASL protocol needs the password: secrets.kafkaPassword or secrets.existingSecret" }}
{{- end }}
{{- end }}
{{- if $sec.caSecret }}
- name: PADIT_KAFKA_CA_FILE
  value: /etc/padit/kafka-ca/{{ $sec.caKey }}
{{- end }}
{{- end -}}

{{- define "padit.kafkaCaVolumeMount" -}}
{{- if .Values.kafka.security.caSecret }}
- name: kafka-ca
  mountPath: /etc/padit/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "padit.kafkaCaVolume" -}}
{{- if .Values.kafka.security.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.security.caSecret }}
    items:
      - key: {{ .Values.kafka.security.caKey }}
        path: {{ .Values.kafka.security.caKey }}
{{- end }}
{{- end -}}
