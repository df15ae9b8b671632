/**
 * Issue 10, item 2, as docker-compose.yml sets it up: config/postgres/roles.sql (what init-roles.sh
 * runs in the postgres image) makes the owner and runtime roles in a fresh database, the hub opens
 * the case log with DATABASE_URL as the runtime role and TIPHUB_MIGRATE_DATABASE_URL as the owner,
 * and the runtime role can write reports but not rewrite the history or create tables.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { parse } from 'yaml';
import { TEST_DATABASE_URL, capturingLogger, newSecret, tmpDir } from '../helpers/env';
import { openCaseLogHere, type OpenCaseLog } from '../../src/caselog/open';
import { loadConfig } from '../../app/config';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const ROLES_SQL = path.join(ROOT, 'config/postgres/roles.sql');

/** Whether a SCRAM-SHA-256 verifier from pg_authid was made from `password` (RFC 5802). */
function scramMatches(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):/.exec(verifier);
  if (!m) return false;
  const salted = pbkdf2Sync(password.normalize('NFKC'), Buffer.from(m[2]!, 'base64'), Number(m[1]), 32, 'sha256');
  const stored = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const expected = Buffer.from(m[3]!, 'base64');
  return expected.length === stored.length && timingSafeEqual(expected, stored);
}

describe('docker-compose PostgreSQL roles (config/postgres/roles.sql)', () => {
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const dbName = `t_compose_${id}`;
  const owner = `t_owner_${id}`;
  const app = `t_app_${id}`;
  // Quotes, a backslash and SQL in the passwords: they must arrive as data, whatever they hold.
  const ownerPassword = `o'wn\\er"; DROP ROLE ${app}; -- ${randomBytes(8).toString('hex')}`;
  const appPassword = `a'pp $(id) :'x' ${randomBytes(8).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  let created = false;
  const dbUrl = (role?: string, password?: string) => {
    const u = new URL(TEST_DATABASE_URL);
    u.pathname = `/${dbName}`;
    if (role) u.username = role;
    // The test cluster trusts local logins; the password is in the URL as in docker-compose.yml.
    if (password) u.password = encodeURIComponent(password);
    return u.toString();
  };
  const rolesSql = () =>
    run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `owner_role=${owner}`, '-v', `app_role=${app}`, '-v', `owner_password=${ownerPassword}`, '-d', dbUrl(), '-f', ROLES_SQL], {
      // The app password the way init-roles.sh hands it over: in the environment.
      env: { ...process.env, TIPHUB_APP_PASSWORD: appPassword, TIPHUB_OWNER_PASSWORD: undefined },
    });
  const cfgFor = (migrate: boolean) => {
    const dir = tmpDir();
    const env: Record<string, string> = { TIPHUB_SECRET: secret, TIPHUB_DATA_DIR: dir, DATABASE_URL: dbUrl(app, appPassword), TIPHUB_LOG_LEVEL: 'warn' };
    if (migrate) env.TIPHUB_MIGRATE_DATABASE_URL = dbUrl(owner, ownerPassword);
    return loadConfig({ env, cwd: dir });
  };
  const secret = newSecret();

  beforeAll(async () => {
    await admin.connect();
    // As the postgres image makes POSTGRES_DB: owned by the superuser until roles.sql runs.
    await admin.query(`CREATE DATABASE ${dbName}`);
    created = true;
    await rolesSql();
  });
  afterAll(async () => {
    if (created) {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      for (const r of [app, owner]) await admin.query(`DROP ROLE IF EXISTS ${r}`);
    }
    await admin.end();
  });

  test('the roles: their passwords stored as given (quotes and all); neither is superuser; the owner owns the database and schema', async () => {
    const { rows } = await admin.query<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean; rolcanlogin: boolean; rolpassword: string }>(
      `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = ANY($1) ORDER BY rolname`,
      [[owner, app]],
    );
    expect(rows.map((r) => [r.rolname, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolcanlogin])).toEqual([
      [app, false, false, false, true],
      [owner, false, false, false, true],
    ]);
    expect(scramMatches(rows.find((r) => r.rolname === owner)!.rolpassword, ownerPassword)).toBe(true);
    expect(scramMatches(rows.find((r) => r.rolname === app)!.rolpassword, appPassword)).toBe(true);
    const c = new Client({ connectionString: dbUrl() });
    await c.connect();
    try {
      const { rows: p } = await c.query(
        `SELECT pg_get_userbyid(d.datdba) AS db_owner, pg_get_userbyid(n.nspowner) AS schema_owner,
                has_schema_privilege($1, 'public', 'CREATE') AS owner_create, has_schema_privilege($2, 'public', 'CREATE') AS app_create,
                has_schema_privilege($2, 'public', 'USAGE') AS app_usage, has_database_privilege($2, current_database(), 'CONNECT') AS app_connect,
                has_database_privilege($2, current_database(), 'CREATE') AS app_db_create
           FROM pg_database d, pg_namespace n WHERE d.datname = current_database() AND n.nspname = 'public'`,
        [owner, app],
      );
      expect(p[0]).toEqual({ db_owner: owner, schema_owner: owner, owner_create: true, app_create: false, app_usage: true, app_connect: true, app_db_create: false });
    } finally {
      await c.end();
    }
  });

  test('roles.sql runs again (a password rotation) and refuses to run without a password or with an empty one', async () => {
    await expect(rolesSql()).resolves.toBeDefined();
    await expect(
      run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `owner_role=${owner}`, '-v', `app_role=${app}`, '-d', dbUrl(), '-f', ROLES_SQL], {
        env: { ...process.env, TIPHUB_OWNER_PASSWORD: undefined, TIPHUB_APP_PASSWORD: undefined },
      }),
    ).rejects.toThrow(/no owner password/);
    await expect(
      run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `owner_role=${owner}`, '-v', `app_role=${app}`, '-d', dbUrl(), '-f', ROLES_SQL], {
        env: { ...process.env, TIPHUB_OWNER_PASSWORD: ownerPassword, TIPHUB_APP_PASSWORD: '' },
      }),
    ).rejects.toThrow(/app password is empty/);
  });

  describe('the case log on these roles', () => {
    let caselog: OpenCaseLog;
    beforeAll(async () => {
      // As the hub starts: migrations as the owner, then the grants to the runtime role.
      caselog = await openCaseLogHere(cfgFor(true), { log: capturingLogger().log });
    });
    afterAll(async () => {
      await caselog?.close();
    });

    test('the owner migrated: every table is the owner’s, none the runtime role’s', async () => {
      const { rows } = await caselog.db.query<{ tableowner: string; n: string }>(
        `SELECT tableowner, count(*)::text AS n FROM pg_tables WHERE schemaname = 'public' GROUP BY tableowner`,
      );
      expect(rows.map((r) => r.tableowner)).toEqual([owner]);
      expect(Number(rows[0]!.n)).toBeGreaterThan(5);
      const { rows: who } = await caselog.db.query<{ user: string }>('SELECT current_user AS user');
      expect(who[0]!.user).toBe(app);
    });

    test('the runtime role writes, but cannot UPDATE, DELETE or TRUNCATE events, nor CREATE a table', async () => {
      await caselog.db.query(`INSERT INTO cases (ref) VALUES ('CMP-AAAA')`);
      await caselog.db.query(`INSERT INTO events (case_id, seq, at, kind, actor, data, hash) SELECT id, 1, now(), 'case.opened', 't', '{}', 'x' FROM cases WHERE ref = 'CMP-AAAA'`);
      await expect(caselog.db.query(`UPDATE events SET actor = 'u'`)).rejects.toThrow(/permission denied/);
      await expect(caselog.db.query(`DELETE FROM events`)).rejects.toThrow(/permission denied/);
      await expect(caselog.db.query(`TRUNCATE events CASCADE`)).rejects.toThrow(/permission denied/);
      await expect(caselog.db.query(`ALTER TABLE events DISABLE TRIGGER USER`)).rejects.toThrow(/must be owner/);
      await expect(caselog.db.query(`CREATE TABLE public.planted (x int)`)).rejects.toThrow(/permission denied for schema public/);
      await expect(caselog.db.query(`CREATE TABLE planted (x int)`)).rejects.toThrow(/permission denied/);
      await caselog.db.query(`UPDATE cases SET priority = 'high' WHERE ref = 'CMP-AAAA'`); // the rest stays writable
      const { rows } = await caselog.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM events`);
      expect(rows[0]!.n).toBe('1');
    });

    test('a worker with both URLs opens the same log (migrations a no-op), and so does one with only the runtime role', async () => {
      const worker = await openCaseLogHere(cfgFor(true), { log: capturingLogger().log });
      try {
        expect(worker.instance).toBe(caselog.instance);
        const { rows } = await worker.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM cases WHERE ref = 'CMP-AAAA'`);
        expect(rows[0]!.n).toBe('1');
      } finally {
        await worker.close();
      }
      // Why docker-compose.yml gives the workers no owner URL: the runtime role alone opens an
      // up-to-date case log (migrate creates nothing then).
      const plain = await openCaseLogHere(cfgFor(false), { log: capturingLogger().log });
      try {
        expect(plain.instance).toBe(caselog.instance);
        await expect(plain.db.query(`DELETE FROM events`)).rejects.toThrow(/permission denied/);
      } finally {
        await plain.close();
      }
    });

    test('several processes starting at once all open it: the grants take the migrations’ lock', async () => {
      const opened = await Promise.allSettled(Array.from({ length: 6 }, () => openCaseLogHere(cfgFor(true), { log: capturingLogger().log, poolSize: 1 })));
      for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
      expect(opened.map((o) => (o.status === 'fulfilled' ? 'ok' : String((o.reason as Error).message)))).toEqual(Array(6).fill('ok'));
    });

    test('the owner can migrate further: it may create in the schema', async () => {
      const c = new Client({ connectionString: dbUrl(owner, ownerPassword) });
      await c.connect();
      try {
        await c.query('BEGIN');
        await c.query('CREATE TABLE public.next_migration (x int)');
        await c.query('ROLLBACK');
      } finally {
        await c.end();
      }
    });
  });

  test('docker-compose.yml: the URLs name these roles and the mounts match init-roles.sh', () => {
    const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment: Record<string, string>; volumes?: string[] }>;
    };
    for (const s of ['hub', 'worker']) {
      const env = compose.services[s]!.environment;
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/tiphub_app:\$\{TIPHUB_APP_PASSWORD:\?[^}]+\}@postgres:5432\/tiphub$/);
    }
    expect(compose.services.hub!.environment.TIPHUB_MIGRATE_DATABASE_URL).toMatch(/^postgres:\/\/tiphub_owner:\$\{TIPHUB_OWNER_PASSWORD:\?[^}]+\}@postgres:5432\/tiphub$/);
    expect(compose.services.worker!.environment.TIPHUB_MIGRATE_DATABASE_URL).toBeUndefined();
    // The dashboard: every address inside the container, this host's loopback only outside it.
    expect(compose.services.hub!.environment.TIPHUB_DASHBOARD_LISTEN).toBe('0.0.0.0:8080');
    // Published on this host's loopback only: the dashboard, and the two webhooks for the TLS proxy, each where it listens.
    const hubEnv = compose.services.hub!.environment as Record<string, string>;
    expect((compose.services.hub as { ports?: string[] }).ports).toEqual(['127.0.0.1:8080:8080', '127.0.0.1:8443:8443', '127.0.0.1:8444:8444']);
    expect([hubEnv.TIPHUB_TELEGRAM_WEBHOOK_LISTEN, hubEnv.TIPHUB_WHATSAPP_WEBHOOK_LISTEN]).toEqual(['0.0.0.0:8443', '0.0.0.0:8444']);
    const pg = compose.services.postgres!;
    expect(pg.volumes).toEqual(
      expect.arrayContaining(['./config/postgres/init-roles.sh:/docker-entrypoint-initdb.d/init-roles.sh:ro', './config/postgres/roles.sql:/etc/tiphub/roles.sql:ro']),
    );
    for (const v of ['POSTGRES_PASSWORD', 'TIPHUB_OWNER_PASSWORD', 'TIPHUB_APP_PASSWORD']) expect(pg.environment[v]).toMatch(new RegExp(`^\\$\\{${v}:\\?`));
    expect(fs.readFileSync(path.join(ROOT, 'config/postgres/init-roles.sh'), 'utf8')).toContain('/etc/tiphub/roles.sql');
    expect(fs.statSync(path.join(ROOT, 'config/postgres/init-roles.sh')).mode & 0o111).not.toBe(0);
  });
});
