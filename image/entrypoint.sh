#!/usr/bin/env bash
# Boot pipeline of the TRM Directus container (and of native stacks, which run this very file).
#
# Fixed order (architecture.md, design rule 4); any failing step halts the boot with its marker,
# so Directus never starts on a half-built database:
#   1/5 db-init pre-schema   2/5 bootstrap   3/5 guarded schema apply   4/5 db-init post-schema
#   5/5 start
# Steps 1-4 run inside `python -m trm_directus boot-steps`, which holds one database lock for all
# four (containers starting together build the database once; the others wait, then find each
# step done) and prints the step markers. Every command is overridable through the environment
# (TRM_CMD_*), which is how native stacks point the steps at their own Python, Node and paths.
# No logic lives here: each step is a call into `python -m trm_directus` or Directus's own CLI.
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
: "${TRM_CMD_BOOT_STEPS:=${TRM_PYTHON} -m trm_directus boot-steps}"
export TRM_CMD_MIGRATE_PRE TRM_CMD_BOOTSTRAP TRM_CMD_SCHEMA_APPLY TRM_CMD_MIGRATE_POST

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
boot_started=$(now_ms)

log() { printf '[entrypoint] %s\n' "$*"; }

log "preflight"
if ! (eval "${TRM_CMD_PREFLIGHT}"); then
  log "FAILED at preflight: refusing to boot with unsafe settings; Directus was not started"
  exit 1
fi

# Steps 1-4 under the boot lock; boot-steps announces, times and names each step, and exits with
# the failing step's exit code. A subshell, so that a failure cannot skip the exit below.
set +e
(eval "${TRM_CMD_BOOT_STEPS}")
rc=$?
set -e
if [ "${rc}" -ne 0 ]; then
  exit "${rc}"
fi

log "5/5 start (boot steps took $(( $(now_ms) - boot_started ))ms)"
eval "exec ${TRM_CMD_START}"
