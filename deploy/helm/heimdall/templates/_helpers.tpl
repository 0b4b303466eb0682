{{/* SPDX-License-Identifier: BSD-3-Clause */}}
{{- define "heimdall.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "heimdall.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "heimdall.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The heimdall pods only (the bundled Redis shares the selector above). */}}
{{- define "heimdall.serverSelector" -}}
{{ include "heimdall.selector" . }}
app.kubernetes.io/component: server
{{- end -}}

{{/* The Redis URL heimdall gets: external, or the bundled Service. */}}
{{- define "heimdall.redisUrl" -}}
{{- if .Values.redis.bundled -}}
{{- printf "redis://%s-redis:6379/0" (include "heimdall.fullname" .) -}}
{{- else -}}
{{- .Values.redis.url -}}
{{- end -}}
{{- end -}}

{{/* Environment variable the SR-IOV device plugin sets to the VF's PCI address. */}}
{{- define "heimdall.pciEnv" -}}
{{- printf "PCIDEVICE_%s" (.Values.sriov.resourceName | upper | replace "." "_" | replace "/" "_" | replace "-" "_") -}}
{{- end -}}

{{/* The shell command line of the container: EAL options, then heimdall's. */}}
{{- define "heimdall.command" -}}
exec /usr/bin/heimdall -l {{ .Values.eal.cores }} -m {{ .Values.eal.memoryMiB }}
{{- if eq .Values.mode "sriov" }} -a "${{ include "heimdall.pciEnv" . }}"
{{- else }} --no-pci --vdev=net_af_xdp0,iface={{ .Values.afXdp.interface }}
{{- end }}
{{- range .Values.eal.extraArgs }} {{ . | quote }}{{ end }} -- --config /etc/heimdall/heimdall.yaml
{{- $url := include "heimdall.redisUrl" . }}
{{- if $url }}
{{- if .Values.redis.passwordSecret.name }} --redis "{{ $url | replace "://" "://:${HEIMDALL_REDIS_PASSWORD}@" }}"
{{- else }} --redis {{ $url | quote }}
{{- end }}
{{- end }}
{{- end -}}
