#!/bin/sh
# Entry point of the API image: `attrition serve` on 0.0.0.0:8000.
#   WEB_CONCURRENCY   uvicorn worker processes in this container (default 2)
#   extra arguments   passed on to `attrition serve`
# Migrations are not run here: N replicas would race. The compose stack runs
# `attrition db upgrade` once in the `migrate` service before any replica starts.
set -eu

workers="${WEB_CONCURRENCY:-2}"
case "$workers" in
    '' | *[!0-9]*)
        echo "WEB_CONCURRENCY must be a positive integer, got '$workers'" >&2
        exit 2
        ;;
esac

exec attrition serve --host 0.0.0.0 --port 8000 --workers "$workers" "$@"
