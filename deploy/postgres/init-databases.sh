#!/bin/sh
# First-start initialisation of the stack's PostgreSQL (run by the postgres image from
# /docker-entrypoint-initdb.d, as the superuser, only when the data volume is empty).
#
# POSTGRES_DB (owned by POSTGRES_USER) holds the application tables. This adds:
#   - the role MLFLOW_DB_USER (password MLFLOW_DB_PASSWORD) owning the MLflow tracking store
#     MLFLOW_DB_NAME and the MLflow basic-auth user store MLFLOW_AUTH_DB_NAME, so the tracking
#     server cannot touch the HR tables;
#   - OPTUNA_DB_NAME, owned by POSTGRES_USER, shared by distributed `attrition train --join`
#     workers.
# The psql connection follows the usual PG* variables (the image's entrypoint sets none, so the
# local socket is used there).
set -eu

: "${POSTGRES_USER:?}"
: "${POSTGRES_DB:?}"
: "${MLFLOW_DB_PASSWORD:?set MLFLOW_DB_PASSWORD for the MLflow database role}"
mlflow_user="${MLFLOW_DB_USER:-mlflow}"
mlflow_db="${MLFLOW_DB_NAME:-mlflow}"
mlflow_auth_db="${MLFLOW_AUTH_DB_NAME:-mlflow_auth}"
optuna_db="${OPTUNA_DB_NAME:-optuna}"

# psql variables (:"name" for identifiers, :'name' for literals) quote every value safely.
psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=mlflow_user="$mlflow_user" \
    --set=mlflow_password="$MLFLOW_DB_PASSWORD" \
    --set=mlflow_db="$mlflow_db" \
    --set=mlflow_auth_db="$mlflow_auth_db" \
    --set=optuna_db="$optuna_db" \
    --set=owner="$POSTGRES_USER" \
    --set=app_db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"mlflow_user" LOGIN PASSWORD :'mlflow_password';
CREATE DATABASE :"mlflow_db" OWNER :"mlflow_user";
CREATE DATABASE :"mlflow_auth_db" OWNER :"mlflow_user";
CREATE DATABASE :"optuna_db" OWNER :"owner";
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"mlflow_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"mlflow_auth_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"optuna_db" FROM PUBLIC;
SQL
