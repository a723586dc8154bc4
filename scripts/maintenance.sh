#!/usr/bin/env bash
# Pacemaker's maintenance mode, for changes done by hand: while it is on, Pacemaker starts, stops, promotes and
# fences nothing (failures go unanswered), pgha-status says so, and pgha-rolling-restart refuses to run.
#   pgha-maintenance on|off|status
set -euo pipefail
# shellcheck source=lib.sh
[[ -n ${PGHA_LIB_LOADED:-} ]] || . "${BASH_SOURCE[0]%/*}/lib.sh"
PGHA_STEP=maintenance

((EUID == 0)) || pgha_die "run as root"
case ${1:-} in
    on)
        pgha_maintenance_mode_on || { crm_attribute -t crm_config -n maintenance-mode -v true; pgha_changed "maintenance mode on: Pacemaker leaves every resource alone until pgha-maintenance off"; }
        ;;
    off)
        ! pgha_maintenance_mode_on || { crm_attribute -t crm_config -n maintenance-mode -v false; pgha_changed "maintenance mode off: Pacemaker manages the cluster again"; }
        ;;
    status) if pgha_maintenance_mode_on; then echo on; else echo off; fi; exit 0 ;;
    *) pgha_die "usage: pgha-maintenance on|off|status" ;;
esac
pgha_summary
