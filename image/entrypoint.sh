#!/usr/bin/env bash
# Boot pipeline of the TRM Directus container (and of native stacks, which run this very file).
#
# Fixed order (architecture.md, design rule 4); any failing step halts the boot with its marker,
# so Directus never starts on a half-built database:
#   1/5 db-init pre-schema   2/5 bootstrap   3/5 guarded schema apply   4/5 db-init post-schema
#   5/5 start
# Every command is overridable through the environment (TRM_CMD_*), which is how native stacks
# point the steps at their own Python, Node and paths. No logic lives here: each step is a call
# into `python -m trm_directus` or Directus's own CLI.
set -euo pipefail

: "${TRM_PYTHON:=python3}"
: "${TRM_DIRECTUS_CLI:=node /directus/cli.js}"
: "${TRM_DB_INIT_DIR:=/directus/db-init}"
: "${SNAPSHOT_PATH:=/directus/snapshots/schema.yaml}"
export TRM_DIRECTUS_CLI SNAPSHOT_PATH

: "${TRM_CMD_PREFLIGHT:=${TRM_PYTHON} -m trm_directus preflight}"
: "${TRM_CMD_MIGRATE_PRE:=${TRM_PYTHON} -m trm_directus migrate --phase pre --dir ${TRM_DB_INIT_DIR}}"
: "${TRM_CMD_BOOTSTRAP:=${TRM_PYTHON} -m trm_directus bootstrap}"
: "${TRM_CMD_SCHEMA_APPLY:=${TRM_PYTHON} -m trm_directus schema-apply --boot}"
: "${TRM_CMD_MIGRATE_POST:=${TRM_PYTHON} -m trm_directus migrate --phase post --dir ${TRM_DB_INIT_DIR}}"
: "${TRM_CMD_START:=pm2-runtime start ecosystem.config.cjs}"

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
boot_started=$(now_ms)

log() { printf '[entrypoint] %s\n' "$*"; }

# run_step N NAME COMMAND: announce, run, time; on failure name the step and stop the boot.
run_step() {
  local n=$1 name=$2 cmd=$3 started rc
  log "${n}/5 ${name}"
  started=$(now_ms)
  # A subshell, so that a command that exits (or fails under set -e) cannot skip the report below.
  set +e
  (eval "${cmd}")
  rc=$?
  set -e
  local took=$(( $(now_ms) - started ))
  if [ "${rc}" -ne 0 ]; then
    log "FAILED at step ${n}/5 (${name}) with exit code ${rc} after ${took}ms; Directus was not started"
    exit "${rc}"
  fi
  log "${n}/5 ${name} done in ${took}ms"
}

log "preflight"
if ! (eval "${TRM_CMD_PREFLIGHT}"); then
  log "FAILED at preflight: refusing to boot with unsafe settings; Directus was not started"
  exit 1
fi

run_step 1 "db-init pre-schema" "${TRM_CMD_MIGRATE_PRE}"
run_step 2 "bootstrap" "${TRM_CMD_BOOTSTRAP}"
run_step 3 "schema apply" "${TRM_CMD_SCHEMA_APPLY}"
run_step 4 "db-init post-schema" "${TRM_CMD_MIGRATE_POST}"

log "5/5 start (boot steps took $(( $(now_ms) - boot_started ))ms)"
eval "exec ${TRM_CMD_START}"
