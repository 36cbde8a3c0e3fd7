{{- define "dampwatch.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dampwatch.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "dampwatch.env" -}}
envFrom:
  - secretRef:
      name: {{ .Values.existingSecret }}
  - configMapRef:
      name: {{ include "dampwatch.fullname" . }}-env
{{- end -}}

{{- define "dampwatch.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ .Values.existingSecret }}
{{- end -}}

{{- define "dampwatch.secretMount" -}}
- name: secrets
  mountPath: /run/secrets/dampwatch
  readOnly: true
{{- end -}}
