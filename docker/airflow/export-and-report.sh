#!/bin/sh
# dws-task-exporter for Airflow: runs `dws-task-exporter "$@" --summary-json FILE`,
# hands the run summary to XCom and maps the exit code to what Airflow should do.
#
#   exit 0, 3 (partial), 2 (config/usage), 6 (auth)
#       -> exit 0. The run is over and an immediate retry would not help:
#          partial runs stored what they could (the next run catches up), and
#          config or credential problems need a person (retrying auth errors
#          risks an access-key lockout). The DAG's check task reads the summary
#          and fails, without retries, for anything but "succeeded".
#   1, 4 (failed), 5 (database), 130/143 (interrupted), a crash
#       -> the same exit code: Airflow retries the task.
#
# XCom: the summary is printed as the last line of stdout (BashOperator pushes
# it) and, when /airflow/xcom exists (KubernetesPodOperator with
# do_xcom_push=True), written to /airflow/xcom/return.json.
#
# Environment: DWS_EXPORTER_BIN (default dws-task-exporter), DWS_EXPORTER_SUMMARY
# (where to write the summary; default as above, else a temporary file), and
# everything dws-task-exporter itself reads.
# Installed in the image as /usr/local/bin/dws-task-exporter-airflow.
set -u

exporter="${DWS_EXPORTER_BIN:-dws-task-exporter}"
if [ -n "${DWS_EXPORTER_SUMMARY:-}" ]; then
  summary="$DWS_EXPORTER_SUMMARY"
elif [ -d /airflow/xcom ]; then
  summary=/airflow/xcom/return.json
else
  summary="$(mktemp "${TMPDIR:-/tmp}/dws-exporter-summary.XXXXXX")"
fi
rm -f "$summary"

# shellcheck disable=SC2086 # DWS_EXPORTER_BIN may be a command with arguments.
$exporter "$@" --summary-json "$summary"
code=$?

if [ -s "$summary" ]; then
  # One line, so that it is the last line of stdout.
  node -e 'const fs = require("fs"); process.stdout.write(JSON.stringify(JSON.parse(fs.readFileSync(process.argv[1], "utf8"))) + "\n")' "$summary" \
    || code=1
else
  # No summary: the command line was refused (2), or the exporter died before
  # it could write one (killed, out of memory).
  [ "$code" -eq 0 ] && code=1
  case "$code" in
    2) outcome=usage_or_config retryable=false ;;
    *) outcome=internal_error retryable=true ;;
  esac
  line="{\"schemaVersion\":1,\"status\":\"error\",\"exitCode\":$code,\"outcome\":\"$outcome\",\"retryable\":$retryable,\"error\":{\"code\":\"NO_SUMMARY\",\"message\":\"dws-task-exporter exited with code $code without writing a summary (see its stderr)\"}}"
  printf '%s\n' "$line"
  if [ -d "$(dirname "$summary")" ]; then printf '%s\n' "$line" > "$summary"; fi
fi

case "$code" in
  0 | 2 | 3 | 6) exit 0 ;;
  *) exit "$code" ;;
esac
