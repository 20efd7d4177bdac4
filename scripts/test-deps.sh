#!/usr/bin/env bash
# The machine's part of `make test`: every program the test suite drives besides Python.
#
# Runs first, so a machine that lacks something hears it in the first lines, not after a
# long run that ends in hundreds of failures. Debian/Ubuntu package names:
#   - as root, missing packages are installed with apt-get;
#   - otherwise the script lists what is missing with the one command that installs it,
#     and exits 1 having run nothing else.
# PostgreSQL and Redis are only installed here, never started: the suite starts throw-away
# servers of its own on free ports with password logins (tests/attrition_services.py).
#
#   scripts/test-deps.sh           check, and install as root
#   scripts/test-deps.sh --check   check only (exit 1 when something is missing)
#
# TEST_DEPS_ROOT (a folder prefixed to absolute paths) and TEST_DEPS_PATH (where commands are
# looked for; default PATH plus the sbin folders) check another tree: the script's own tests.
set -euo pipefail

# "<how to find it>:<Debian package>"; a path is tested as a file, a name on PATH and sbin.
python="${PYTHON:-python3.11}"
requirements=(
    "${python}:$(basename "$python")"
    "python-venv:$(basename "$python")-venv"
    "${TEST_DEPS_ROOT:-}/usr/bin/chromium:chromium"
    "nginx:nginx"
    "wrk:wrk"
    "openssl:openssl"
    "curl:curl"
    "docker-compose:docker-compose"
    "shellcheck:shellcheck"
    "envsubst:gettext-base"
    "node:nodejs"
    "npm:npm"
    "psql:postgresql-client"
    "postgres-server:postgresql"
    "redis-server:redis-server"
)
search_path="${TEST_DEPS_PATH:-${PATH}:/usr/sbin:/sbin:/usr/local/sbin}"

has() {
    local what="$1"
    case "$what" in
        /*) [[ -x "$what" ]] ;;
        python-venv) PATH="$search_path" "$python" -c "import ensurepip, venv" 2>/dev/null ;;
        postgres-server) compgen -G "${TEST_DEPS_ROOT:-}/usr/lib/postgresql/*/bin/initdb" >/dev/null ||
            PATH="$search_path" command -v initdb >/dev/null ;;
        *) PATH="$search_path" command -v "$what" >/dev/null ;;
    esac
}

missing=()
for requirement in "${requirements[@]}"; do
    has "${requirement%%:*}" || missing+=("${requirement##*:}")
done

if ((${#missing[@]} == 0)); then
    echo "test-deps: every tool the suite drives is installed (PostgreSQL and Redis are started by the suite)"
    exit 0
fi

install_command="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ "${1:-}" == "--check" || "$EUID" != 0 ]]; then
    {
        echo "test-deps: the test suite needs programs this machine lacks: ${missing[*]}"
        echo "test-deps: install them with:  sudo ${install_command}"
        echo "test-deps: (as root, \`make test\` installs them itself); nothing was run"
    } >&2
    exit 1
fi

echo "test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for requirement in "${requirements[@]}"; do
    if ! has "${requirement%%:*}"; then
        echo "test-deps: ${requirement##*:} was installed but ${requirement%%:*} is still missing" >&2
        exit 1
    fi
done
echo "test-deps: installed ${missing[*]}"
