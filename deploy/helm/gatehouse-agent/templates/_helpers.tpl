{{/* The agent's names are fixed: the ClusterRole and its bindings are the install manifest's. */}}
{{- define "gatehouse-agent.name" -}}gatehouse-agent{{- end -}}

{{- define "gatehouse-agent.labels" -}}
app.kubernetes.io/name: gatehouse-agent
app.kubernetes.io/part-of: gatehouse
{{- end -}}

{{- define "gatehouse-agent.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
