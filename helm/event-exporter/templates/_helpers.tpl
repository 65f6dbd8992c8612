{{/* Whether anything is rendered: global.eventExporter.enabled, true unless set false. */}}
{{- define "event-exporter.enabled" -}}
{{- $global := default dict .Values.global -}}
{{- $exporter := default dict $global.eventExporter -}}
{{- if eq (toString (default "true" (toString $exporter.enabled))) "false" -}}false{{- else -}}true{{- end -}}
{{- end -}}

{{- define "event-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Objects are named as NVSentinel names its exporter's: "event-exporter" inside an umbrella chart
(its e2e test finds the Deployment by that name), release-prefixed when installed on their own.
*/}}
{{- define "event-exporter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "/charts/" .Template.BasePath -}}
{{- include "event-exporter.name" . -}}
{{- else if contains (include "event-exporter.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "event-exporter.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "event-exporter.labels" -}}
app.kubernetes.io/name: {{ include "event-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
An object's metadata annotations: commonAnnotations and the object's own ("extra"), with
(dict "root" $ "extra" $own); nothing when both are empty.
*/}}
{{- define "event-exporter.annotations" -}}
{{- $all := merge (dict) (default dict .extra) (default dict .root.Values.commonAnnotations) }}
{{- with $all }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "event-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "event-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "event-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "event-exporter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
An image: its own tag, else the chart's appVersion. Not the umbrella's global.image.tag: that names
an NVSentinel release, which this image's repository has no tag for.
*/}}
{{- define "event-exporter.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (.image.tag | default .chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The exporter's configuration file, bound by both applications. */}}
{{- define "event-exporter.config" -}}
{{- $e := .Values.exporter -}}
exporter:
  metadata:
    {{- $metadata := merge (dict) (default dict .Values.metadata) (default dict $e.metadata) }}
    {{- range $key, $value := $metadata }}
    {{ $key }}: {{ $value | toString | quote }}
    {{- end }}
  {{- with $e.workers }}
  # the replaced exporter's key: the live exporter's deliveries in flight (exporter.live.workers)
  workers: {{ int64 . }}
  {{- end }}
  sink:
    endpoint: {{ $e.sink.endpoint | quote }}
    timeout: {{ $e.sink.timeout | toString | quote }}
    insecureSkipVerify: {{ $e.sink.insecureSkipVerify }}
    subject: {{ ne $e.sink.subject false }}
    traceContextExtension: {{ default false $e.sink.traceContextExtension }}
    {{- with $e.sink.batch }}
    batch:
      enabled: {{ default false .enabled }}
      maxEvents: {{ int64 (default 100 .maxEvents) }}
      maxWait: {{ default "100ms" .maxWait | toString | quote }}
    {{- end }}
  oidc:
    tokenUrl: {{ $e.oidc.tokenUrl | quote }}
    clientId: {{ $e.oidc.clientId | quote }}
    scope: {{ $e.oidc.scope | quote }}
    insecureSkipVerify: {{ $e.oidc.insecureSkipVerify }}
    clientSecretFile: "/var/secrets/oidc-client-secret"
  backfill:
    enabled: {{ $e.backfill.enabled }}
    maxAge: {{ $e.backfill.maxAge | toString | quote }}
    maxEvents: {{ int64 $e.backfill.maxEvents }}
    batchSize: {{ int64 $e.backfill.batchSize }}
    rateLimit: {{ int64 $e.backfill.rateLimit }}
    waitForCutoff: {{ .Values.backfillJob.waitForCutoff | toString | quote }}
    jobRepositoryPath: "/var/lib/event-exporter-backfill"
  failureHandling:
    maxRetries: {{ int64 $e.failureHandling.maxRetries }}
    initialBackoff: {{ $e.failureHandling.initialBackoff | toString | quote }}
    maxBackoff: {{ $e.failureHandling.maxBackoff | toString | quote }}
    backoffMultiplier: {{ $e.failureHandling.backoffMultiplier | float64 }}
  {{- with $e.filter }}
  {{- with .expression }}
  filter:
    expression: {{ . | quote }}
  {{- end }}
  {{- end }}
  {{- with $e.resumeToken }}
  {{- if or .database .collection }}
  resumeToken:
    {{- with .database }}
    database: {{ . | quote }}
    {{- end }}
    {{- with .collection }}
    collection: {{ . | quote }}
    {{- end }}
  {{- end }}
  {{- end }}
  {{- $postgresql := eq (include "event-exporter.postgresql" .) "true" }}
  {{- with .Values.mongodb }}
  {{- if or .database .collection $postgresql }}
  # set in the chart's values: wins over NVSentinel's datastore environment (the URI comes from a
  # Secret, as MONGODB_URI; PostgreSQL's connection from DATASTORE_*)
  datastore:
    {{- if $postgresql }}
    provider: postgresql
    {{- end }}
    {{- with .database }}
    database: {{ . | quote }}
    {{- end }}
    {{- with .collection }}
    collection: {{ . | quote }}
    {{- end }}
  {{- end }}
  {{- end }}
  live:
    metricsPort: {{ include "event-exporter.metricsPort" . }}
    {{- $live := omit (default dict $e.live) "metricsPort" }}
    {{- if gt (int .Values.replicaCount) 1 }}
    {{- /* two or more replicas: one leads under the lease, the others stand by */}}
    {{- $_ := set $live "lease" (merge (dict "enabled" true) (default dict $live.lease)) }}
    {{- end }}
    {{- with $live }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* The port of /metrics and /healthz: the umbrella's global.metricsPort when set, as in every
NVSentinel subchart, else metrics.port. */}}
{{- define "event-exporter.metricsPort" -}}
{{- $global := default dict .Values.global -}}
{{- int (default .Values.metrics.port $global.metricsPort) -}}
{{- end -}}

{{/* Pod and container security: non-root, read-only, no capabilities (values, overridable). */}}
{{- define "event-exporter.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end -}}

{{- define "event-exporter.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end -}}

{{/*
The MongoDB certificates as NVSentinel's umbrella gives them to its components (its
nvsentinel.mongodb.certVolume, hasCertVolume and certMountPathFromMongoStore helpers), as JSON:
{secret, items, optional, mountPath}; no secret or no mountPath: nothing is mounted.
- external MongoDB (global.datastore names mongodb, global.mongodbStore.enabled false): with
  global.datastore.auth.mechanism x509, the Secret auth.clientCertSecretName; else a CA alone from
  global.datastore.tls.caSecretName, at /etc/ssl/mongo-ca unless a mount path is set; else none;
- in-cluster: global.datastore.auth.clientCertSecretName, else global.datastore.certificates
  .secretName, else mongodb.clientCertSecretName (optional);
- keys as global.datastore.certificates.{certKey,keyKey,caKey} name them, as tls.crt, tls.key,
  ca.crt;
- at mongodbStore.clientCertMountPath ("" turns the mount off), or the older
  mongodb.clientCertMountPath when that is set.
*/}}
{{- define "event-exporter.mongoCert" -}}
{{- $global := default dict .Values.global -}}
{{- $datastore := default dict $global.datastore -}}
{{- $store := default dict $global.mongodbStore -}}
{{- $auth := default dict $datastore.auth -}}
{{- $tls := default dict $datastore.tls -}}
{{- $certificates := default dict $datastore.certificates -}}
{{- $external := and $global.datastore (eq (toString (default "mongodb" $datastore.provider)) "mongodb") (not $store.enabled) -}}
{{- $items := list (dict "key" (default "tls.crt" $certificates.certKey) "path" "tls.crt") (dict "key" (default "tls.key" $certificates.keyKey) "path" "tls.key") (dict "key" (default "ca.crt" $certificates.caKey) "path" "ca.crt") -}}
{{- $secret := "" -}}
{{- $optional := true -}}
{{- $mount := .Values.mongodb.clientCertMountPath | default ((default dict .Values.mongodbStore).clientCertMountPath) | default "" -}}
{{- if $external -}}
  {{- $optional = false -}}
  {{- if and (eq (toString (default "scram" $auth.mechanism)) "x509") $auth.clientCertSecretName -}}
    {{- $secret = $auth.clientCertSecretName -}}
  {{- else if $tls.caSecretName -}}
    {{- $secret = $tls.caSecretName -}}
    {{- $items = list (dict "key" "ca.crt" "path" "ca.crt") -}}
    {{- $mount = $mount | default "/etc/ssl/mongo-ca" -}}
  {{- end -}}
{{- else -}}
  {{- $secret = $auth.clientCertSecretName | default $certificates.secretName | default .Values.mongodb.clientCertSecretName -}}
{{- end -}}
{{- if and $secret $mount -}}
{{- toJson (dict "secret" $secret "items" $items "optional" $optional "mountPath" $mount) -}}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/* Volumes both applications mount: configuration, OIDC secret, /tmp, MongoDB TLS. */}}
{{- define "event-exporter.volumes" -}}
- name: config
  configMap:
    name: {{ include "event-exporter.fullname" . }}
- name: oidc-client-secret
  secret:
    secretName: {{ .Values.oidcSecretName }}
    items:
      - key: oidc-client-secret
        path: oidc-client-secret
- name: tmp
  emptyDir: {}
{{- if eq (include "event-exporter.postgresql" .) "true" }}
- name: postgresql-client-cert
  secret:
    secretName: {{ .Values.postgresql.clientCertSecretName }}
    optional: true
    # the PostgreSQL driver, as libpq, refuses a private key others may read: root's, the pod's
    # group's (fsGroup) to read, nobody else's
    defaultMode: 0440
{{- else }}
{{- with (include "event-exporter.mongoCert" . | fromJson) }}
{{- if .secret }}
- name: mongo-app-client-cert
  secret:
    secretName: {{ .secret }}
    items:
      {{- toYaml .items | nindent 6 }}
    optional: {{ .optional }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "event-exporter.volumeMounts" -}}
- name: config
  mountPath: /config
  readOnly: true
- name: oidc-client-secret
  mountPath: /var/secrets
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if eq (include "event-exporter.postgresql" .) "true" }}
- name: postgresql-client-cert
  mountPath: {{ .Values.postgresql.clientCertMountPath }}
  readOnly: true
{{- else }}
{{- with (include "event-exporter.mongoCert" . | fromJson) }}
{{- if .secret }}
- name: mongo-app-client-cert
  mountPath: {{ .mountPath }}
  readOnly: true
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The environment of both applications: NVSentinel's datastore contract as its components get
it, and the umbrella's tracing. */}}
{{- define "event-exporter.env" -}}
- name: SPRING_CONFIG_ADDITIONAL_LOCATION
  value: "file:/config/"
# the directory of ca.crt, tls.crt and tls.key; files the optional Secret does not hold are not used
{{- if eq (include "event-exporter.postgresql" .) "true" }}
- name: POSTGRESQL_CLIENT_CERT_MOUNT_PATH
  value: {{ .Values.postgresql.clientCertMountPath | quote }}
{{- else }}
{{- with (include "event-exporter.mongoCert" . | fromJson) }}
{{- if .secret }}
- name: MONGODB_CLIENT_CERT_MOUNT_PATH
  value: {{ .mountPath | quote }}
{{- end }}
{{- end }}
{{- end }}
# the name the datastore sees the connections under, as NVSentinel's components give it
- name: APP_NAME
  value: {{ .Chart.Name | quote }}
{{- $global := default dict .Values.global -}}
{{- $tracing := default dict $global.tracing }}
{{- if $tracing.enabled }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ required "global.tracing.endpoint is required when global.tracing.enabled is true" $tracing.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_INSECURE
  value: {{ default false $tracing.insecure | quote }}
{{- end }}
{{- with (include "event-exporter.mongodbUriSecret" .) }}
# the connection string may hold credentials: from a Secret, never from the ConfigMap
- name: MONGODB_URI
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.mongodb.existingSecretKey }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The Secret holding mongodb's connection string: an existing one, the chart's own for
mongodb.uri, or none (NVSentinel's environment gives it). */}}
{{- define "event-exporter.mongodbUriSecret" -}}
{{- if .Values.mongodb.existingSecret -}}
{{- .Values.mongodb.existingSecret -}}
{{- else if .Values.mongodb.uri -}}
{{- include "event-exporter.fullname" . }}-mongodb
{{- end -}}
{{- end -}}

{{/* NVSentinel's datastore ConfigMap (optional, as for its components) and, for an external
MongoDB, the Secret holding MONGODB_URI. */}}
{{- define "event-exporter.envFrom" -}}
{{- $global := default dict .Values.global -}}
- configMapRef:
    name: {{ include "event-exporter.datastoreConfigMap" . }}
    optional: true
{{- with $global.datastore }}
{{- with .credentialsFromSecret }}
{{- with .name }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* "true" when NVSentinel keeps its health events in PostgreSQL (global.datastore.provider). */}}
{{- define "event-exporter.postgresql" -}}
{{- $global := default dict .Values.global -}}
{{- $datastore := default dict $global.datastore -}}
{{- eq (toString (default "mongodb" $datastore.provider)) "postgresql" -}}
{{- end -}}

{{- define "event-exporter.datastoreConfigMap" -}}
{{- $global := default dict .Values.global -}}
{{- if .Values.mongodb.configMapName -}}
{{- .Values.mongodb.configMapName -}}
{{- else if $global.datastore -}}
{{- printf "%s-datastore-config" .Release.Name -}}
{{- else -}}
mongodb-config
{{- end -}}
{{- end -}}

{{/* Scheduling: the umbrella's global.systemNodeSelector, global.affinity and
global.systemNodeTolerations in place of the chart's own when set. */}}
{{- define "event-exporter.scheduling" -}}
{{- $global := default dict .Values.global -}}
{{- with ($global.systemNodeSelector | default .Values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with ($global.affinity | default .Values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with ($global.systemNodeTolerations | default .Values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "event-exporter.imagePullSecrets" -}}
{{- $global := default dict .Values.global -}}
{{- with (.Values.imagePullSecrets | default $global.imagePullSecrets) }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The backfill pod, for the Job and the CronJob. */}}
{{/*
The install-time backfill Job's name: named after what it runs (its pod, configuration included),
so an upgrade that changes nothing keeps the Job and one that changes anything makes a new one (a
Job's pod template cannot change). No release revision, which GitOps tools rendering with
`helm template` always see as 1.
*/}}
{{- define "event-exporter.backfillJobName" -}}
{{ include "event-exporter.fullname" . }}-backfill-{{ include "event-exporter.backfillPod" (dict "root" . "args" (list "run")) | sha256sum | trunc 10 }}
{{- end -}}

{{/* What every backfill Job does on failure and how long it may take. */}}
{{- define "event-exporter.backfillJobSpec" -}}
backoffLimit: {{ .Values.backfillJob.backoffLimit }}
{{- with .Values.backfillJob.activeDeadlineSeconds }}
activeDeadlineSeconds: {{ . }}
{{- end }}
{{- if not (kindIs "invalid" .Values.backfillJob.ttlSecondsAfterFinished) }}
ttlSecondsAfterFinished: {{ .Values.backfillJob.ttlSecondsAfterFinished }}
{{- end }}
podFailurePolicy:
  rules:
    # exit status 2: a usage or configuration error, which no retry can mend
    - action: FailJob
      onExitCodes:
        containerName: backfill
        operator: In
        values: [2]
    # a pod evicted, preempted or drained is no failure of the window: it resumes
    - action: Ignore
      onPodConditions:
        - type: DisruptionTarget
{{- end -}}

{{/* The backfill's pod, running the job's command line with (dict "root" $ "args" (list ...)). */}}
{{- define "event-exporter.backfillPod" -}}
{{- $args := .args }}
{{- $root := .root }}
{{- with .root }}
metadata:
  labels:
    {{- include "event-exporter.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: backfill
  annotations:
    checksum/config: {{ include "event-exporter.config" . | sha256sum }}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: {{ .Values.backfillJob.terminationGracePeriodSeconds }}
  serviceAccountName: {{ include "event-exporter.serviceAccountName" . }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    {{- include "event-exporter.podSecurityContext" . | nindent 4 }}
  {{- include "event-exporter.imagePullSecrets" . | nindent 2 }}
  containers:
    - name: backfill
      image: {{ include "event-exporter.image" (dict "image" .Values.backfillImage "chart" .Chart "global" .Values.global) }}
      imagePullPolicy: {{ .Values.backfillImage.pullPolicy }}
      args: {{ toJson $args }}
      envFrom:
        {{- include "event-exporter.envFrom" . | nindent 8 }}
      env:
        {{- include "event-exporter.env" . | nindent 8 }}
        {{- with .Values.backfillJob.metrics.pushgateway.address }}
        # a Job has no scrape endpoint: its metrics go to the Pushgateway while it runs and as it ends
        - name: MANAGEMENT_PROMETHEUS_METRICS_EXPORT_PUSHGATEWAY_ENABLED
          value: "true"
        - name: MANAGEMENT_PROMETHEUS_METRICS_EXPORT_PUSHGATEWAY_ADDRESS
          value: {{ . | quote }}
        - name: MANAGEMENT_PROMETHEUS_METRICS_EXPORT_PUSHGATEWAY_GROUPINGKEY_RELEASE
          value: {{ $root.Release.Name | quote }}
        {{- end }}
        {{- with .Values.backfillJob.datasource }}
        {{- if .url }}
        - name: SPRING_DATASOURCE_URL
          value: {{ .url | quote }}
        - name: SPRING_DATASOURCE_USERNAME
          valueFrom:
            secretKeyRef:
              name: {{ required "backfillJob.datasource.secretName is required with a datasource url" .secretName }}
              key: username
        - name: SPRING_DATASOURCE_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ .secretName }}
              key: password
        {{- end }}
        {{- end }}
      securityContext:
        {{- include "event-exporter.containerSecurityContext" . | nindent 8 }}
      resources:
        {{- toYaml .Values.backfillJob.resources | nindent 8 }}
      volumeMounts:
        {{- include "event-exporter.volumeMounts" . | nindent 8 }}
        - name: job-repository
          mountPath: /var/lib/event-exporter-backfill
  volumes:
    {{- include "event-exporter.volumes" . | nindent 4 }}
    - name: job-repository
      {{- if and .Values.backfillJob.persistence.enabled (not .Values.backfillJob.datasource.url) }}
      persistentVolumeClaim:
        claimName: {{ default (printf "%s-backfill" (include "event-exporter.fullname" .)) .Values.backfillJob.persistence.existingClaim }}
      {{- else }}
      emptyDir: {}
      {{- end }}
  {{- include "event-exporter.scheduling" . | nindent 2 }}
{{- end }}
{{- end -}}
