#!/bin/sh
# The application's PostgreSQL role, POSTGRES_APP_USER with POSTGRES_APP_PASSWORD: what the
# service's processes connect as. It can log in and nothing more (no superuser, no CREATEDB,
# no CREATEROLE); the migrations, run as the owner POSTGRES_USER by backend-prepare, grant it
# exactly the privileges the apps declare (common/roles.py).
#
# postgresql-service runs this once, on its first start (an empty data directory), from
# /docker-entrypoint-initdb.d. It changes nothing when the role exists, so it can also be run
# by hand for a data volume made before the role existed:
#   docker compose exec postgresql-service sh /docker-entrypoint-initdb.d/10-app-role.sh
# Whether the entrypoint executes or sources it, it neither sets shell options nor exits.

psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password \
	--username "${POSTGRES_USER:?}" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
	--set app_user="${POSTGRES_APP_USER:?set POSTGRES_APP_USER in .env (see .env_example)}" \
	--set app_password="${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD in .env (see .env_example)}" \
	<<'SQL'
SELECT format(
    'CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
    :'app_user', :'app_password'
)
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user')
\gexec
SQL
