#!/usr/bin/env bash
# supervise.sh LOG CMD [ARGS...] -- runs CMD with its output appended to LOG and starts it again
# when it exits, as a kubelet restarts a static control-plane pod. kube-scheduler exits on purpose
# when it finds its cache inconsistent ("Scheduler cache is corrupted"), which a restart of the API
# server under it can cause; a real cluster restarts it, so the local one does too.
# SIGTERM/SIGINT stop the child, then the supervisor (stop.sh sends SIGTERM to the pid in pid/).
set -u
log=$1; shift
child=
trap 'if [ -n "$child" ]; then kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi; exit 0' TERM INT
while :; do
  "$@" >>"$log" 2>&1 &
  child=$!
  wait "$child"
  rc=$?
  echo "supervise.sh: ${1##*/} exited with code $rc; starting it again in 1 s" >>"$log"
  sleep 1 &
  wait $!
done
