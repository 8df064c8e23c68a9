#!/usr/bin/env bash
# Makes this machine ready for the test suite, idempotently: installs the Debian packages the
# tests use (only those missing) and starts the local PostgreSQL and MariaDB if they are down.
# PostgreSQL 14, 16, 17 and 18 come from npm (devDependencies pg14...pg18) and are started by the
# test suite itself, as the `postgres` system user (PostgreSQL refuses to run as root).
set -euo pipefail

need=()
for pkg in postgresql-client mariadb-client jupyterhub alembic python3-psycopg2 chromium graphviz openssl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "test-env: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! id -u postgres >/dev/null 2>&1; then
  echo "test-env: creating the postgres system user (the test servers of other majors run as it)"
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "test-env: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  echo "test-env: starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && break
  sleep 1
done
if ! pg_isready -h 127.0.0.1 -p 5432 -q || ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  echo "test-env: PostgreSQL or MariaDB did not come up" >&2
  exit 1
fi

# The wrong-password tests need PostgreSQL to check passwords for one group of roles, while the
# rest of this machine's trust authentication stays as it is.
hba="$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW hba_file')"
psql -h 127.0.0.1 -U postgres -qc "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'um_password_auth') THEN CREATE ROLE um_password_auth NOLOGIN; END IF; END\$\$"
rule="host all +um_password_auth 127.0.0.1/32 scram-sha-256"
if ! grep -qxF "$rule" "$hba"; then
  echo "test-env: PostgreSQL checks passwords for members of um_password_auth ($hba)"
  { echo "$rule"; cat "$hba"; } > "$hba.new" && cat "$hba.new" > "$hba" && rm -f "$hba.new"
  psql -h 127.0.0.1 -U postgres -qAtc "SELECT pg_reload_conf()" >/dev/null
fi
