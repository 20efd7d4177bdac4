#!/bin/sh
# Entry point of the MLflow image: the tracking server with basic auth, configured only from the
# environment (nothing secret is baked into the image or written outside a private temp file).
#
# Required:
#   MLFLOW_BACKEND_STORE_URI        PostgreSQL URL of the tracking and registry store
#   MLFLOW_AUTH_DATABASE_URI        PostgreSQL URL of the basic-auth user store
#   MLFLOW_AUTH_ADMIN_USERNAME      admin created on first start (read by MLflow)
#   MLFLOW_AUTH_ADMIN_PASSWORD      its password, used only on first start (read by MLflow)
#   MLFLOW_FLASK_SERVER_SECRET_KEY  signs sessions and CSRF tokens across workers (read by MLflow)
# Optional:
#   MLFLOW_AUTH_DEFAULT_PERMISSION  READ (default), EDIT, MANAGE or NO_PERMISSIONS
#   MLFLOW_ARTIFACTS_DESTINATION    artifact directory, a volume (default /mlartifacts)
#   MLFLOW_WORKERS                  server worker processes (default 2)
#   MLFLOW_SERVER_ALLOWED_HOSTS     Host headers accepted (read by MLflow)
# Extra arguments are passed on to `mlflow server`.
set -eu

: "${MLFLOW_BACKEND_STORE_URI:?set MLFLOW_BACKEND_STORE_URI to the PostgreSQL tracking store URL}"
: "${MLFLOW_AUTH_DATABASE_URI:?set MLFLOW_AUTH_DATABASE_URI to the PostgreSQL user store URL}"
: "${MLFLOW_AUTH_ADMIN_USERNAME:?set MLFLOW_AUTH_ADMIN_USERNAME}"
: "${MLFLOW_AUTH_ADMIN_PASSWORD:?set MLFLOW_AUTH_ADMIN_PASSWORD}"
: "${MLFLOW_FLASK_SERVER_SECRET_KEY:?set MLFLOW_FLASK_SERVER_SECRET_KEY}"

permission="${MLFLOW_AUTH_DEFAULT_PERMISSION:-READ}"
case "$permission" in
    READ | EDIT | MANAGE | NO_PERMISSIONS) ;;
    *)
        echo "MLFLOW_AUTH_DEFAULT_PERMISSION must be READ, EDIT, MANAGE or NO_PERMISSIONS," \
            "got '$permission'" >&2
        exit 2
        ;;
esac

# The auth config holds the user-store URL (with its password): a private file in a private
# directory, readable by this user only.
umask 077
config_dir="$(mktemp -d)"
cat >"$config_dir/basic_auth.ini" <<EOF
[mlflow]
default_permission = $permission
database_uri = $MLFLOW_AUTH_DATABASE_URI
admin_username = $MLFLOW_AUTH_ADMIN_USERNAME
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
EOF
export MLFLOW_AUTH_CONFIG_PATH="$config_dir/basic_auth.ini"

exec mlflow server \
    --host 0.0.0.0 \
    --port 5000 \
    --workers "${MLFLOW_WORKERS:-2}" \
    --backend-store-uri "$MLFLOW_BACKEND_STORE_URI" \
    --serve-artifacts \
    --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION:-/mlartifacts}" \
    --app-name basic-auth \
    "$@"
