#!/bin/sh
# Run once by the official postgres image (from /docker-entrypoint-initdb.d) when its data directory
# is empty: makes the case log's owner and runtime roles (config/postgres/roles.sql). The passwords
# stay in the environment (psql's \getenv reads them), never on a command line or in SQL text.
# The image sources a script that is not executable, so no `exit` and no `set -u` here.
set -e
: "${TIPHUB_OWNER_PASSWORD:?set TIPHUB_OWNER_PASSWORD for the postgres service}"
: "${TIPHUB_APP_PASSWORD:?set TIPHUB_APP_PASSWORD for the postgres service}"
psql -X -v ON_ERROR_STOP=1 --no-password --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -f "${TIPHUB_ROLES_SQL:-/etc/tiphub/roles.sql}"
