-- The two PostgreSQL roles of the case log (issue 10, item 2), for the database psql is connected to.
--
--   owner_role (default tiphub_owner): owns the database and schema public; TIPHUB_MIGRATE_DATABASE_URL
--     logs in as it, creates the tables and grants the runtime role (src/caselog/roles.ts).
--   app_role (default tiphub_app): DATABASE_URL logs in as it; may connect and use schema public,
--     nothing more until the owner grants it the tables. It owns nothing and cannot CREATE.
--   pg_trgm: the extension the case list's search needs (migration 8), created in schema public.
--
-- Passwords come from psql variables (-v owner_password=… -v app_password=…) or, when those are not
-- given, from the environment (TIPHUB_OWNER_PASSWORD, TIPHUB_APP_PASSWORD), so a password need not
-- be on a command line. They reach SQL only through :'var' / format('%L'), never by shell
-- interpolation, whatever characters they hold. Run as a superuser; running it again sets the
-- passwords and attributes again (a rotation).
--
--   psql -X -v ON_ERROR_STOP=1 -d tiphub -f roles.sql
\set ON_ERROR_STOP 1

\if :{?owner_role}
\else
\set owner_role tiphub_owner
\endif
\if :{?app_role}
\else
\set app_role tiphub_app
\endif
\if :{?owner_password}
\else
\getenv owner_password TIPHUB_OWNER_PASSWORD
\endif
\if :{?app_password}
\else
\getenv app_password TIPHUB_APP_PASSWORD
\endif
\if :{?owner_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'roles.sql: no owner password (-v owner_password=… or TIPHUB_OWNER_PASSWORD)'; END $$;
\endif
\if :{?app_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'roles.sql: no app password (-v app_password=… or TIPHUB_APP_PASSWORD)'; END $$;
\endif
SELECT :'owner_password' = '' AS owner_password_empty, :'app_password' = '' AS app_password_empty \gset
\if :owner_password_empty
DO $$ BEGIN RAISE EXCEPTION 'roles.sql: the owner password is empty'; END $$;
\endif
\if :app_password_empty
DO $$ BEGIN RAISE EXCEPTION 'roles.sql: the app password is empty'; END $$;
\endif
SELECT current_database() AS dbname \gset

BEGIN;
SELECT format('CREATE ROLE %I', :'owner_role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner_role') \gexec
SELECT format('CREATE ROLE %I', :'app_role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_role') \gexec
-- Stored as SCRAM verifiers (password_encryption defaults to scram-sha-256 since PostgreSQL 14).
ALTER ROLE :"owner_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_password';
ALTER ROLE :"app_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'app_password';

ALTER DATABASE :"dbname" OWNER TO :"owner_role";
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"dbname" TO :"app_role";

-- PostgreSQL 15+ already keeps CREATE on public from PUBLIC; older clusters did not.
ALTER SCHEMA public OWNER TO :"owner_role";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"owner_role";
REVOKE CREATE ON SCHEMA public FROM :"app_role";
GRANT USAGE ON SCHEMA public TO :"app_role";
-- The case list's search (migration 8) indexes trigrams. pg_trgm is a trusted extension, so the
-- owner may create it too; made here once, in public, where every connection's path finds it.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
COMMIT;
