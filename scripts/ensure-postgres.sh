#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests:
# uses a running one, starts an installed cluster, or installs Debian's
# package. Prints the connection URL on its last line.
set -euo pipefail

host=127.0.0.1
port=5432
url="postgres://postgres@${host}:${port}"

ready() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$host" -p "$port"
    else
        (exec 3<>"/dev/tcp/${host}/${port}") 2>/dev/null
    fi
}

wait_ready() {
    for _ in $(seq 1 60); do
        ready && return 0
        sleep 0.5
    done
    return 1
}

start_cluster() {
    local version
    version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
    echo "ensure-postgres: starting PostgreSQL ${version}" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
}

if ready; then
    echo "$url"
    exit 0
fi

if [ -d /etc/postgresql ] && [ -n "$(ls -A /etc/postgresql 2>/dev/null)" ]; then
    start_cluster
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: PostgreSQL is not installed; installing Debian's package" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
    # A throwaway test server: trust local TCP connections, as this machine's does.
    hba="/etc/postgresql/${version}/main/pg_hba.conf"
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    start_cluster
else
    echo "ensure-postgres: no PostgreSQL on ${host}:${port}, none installed, and no root apt-get to install one; install PostgreSQL or set STOREHUB_TEST_POSTGRES_URL." >&2
    exit 1
fi

if ! wait_ready; then
    echo "ensure-postgres: PostgreSQL did not come up on ${host}:${port}." >&2
    exit 1
fi
echo "$url"
