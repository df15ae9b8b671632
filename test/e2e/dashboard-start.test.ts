/**
 * Issue 11, item 3: `tiphub start` serves the dashboard on dashboard.listen, and `tiphub dashboard`
 * serves it alone on PostgreSQL; the way a new user reaches it (the address is printed at start).
 */
import { setup, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';

describe('the dashboard as the hub serves it', () => {
  let s: TestSetup;
  let proc: Background | null = null;
  afterEach(async () => {
    await proc?.stop('SIGKILL');
    proc = null;
    await s.cleanup();
  });

  const urlIn = (out: string) => /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1] ?? /tiphub dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];

  test('tiphub start prints where the dashboard is; it answers with its login page and headers, and sends anonymous visitors there', async () => {
    s = await setup('pglite');
    proc = startCli(['start'], s.env);
    await proc.waitForOutput(/tiphub is running/);
    const url = urlIn(proc.output());
    expect(url).toBeDefined();
    const login = await fetch(new URL('login', url));
    expect(login.status).toBe(200);
    expect(await login.text()).toMatch(/<form[^>]+action="\/login"/);
    expect(login.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const home = await fetch(url!, { redirect: 'manual' });
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toMatch(/\/login/);
    // An operator made from the command line while the hub runs, through its control socket.
    const add = await runCli(['operator', 'add', 'amina', '--role', 'supervisor'], s.env);
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/one-time password/i);
  });

  test('tiphub dashboard serves it alone on PostgreSQL, and says why not on the embedded case log', async () => {
    s = await setup('pglite');
    const refused = await runCli(['dashboard'], s.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/needs PostgreSQL .* tiphub start serves the dashboard/);
    await s.cleanup();

    s = await setup('postgres');
    proc = startCli(['dashboard'], s.env);
    await proc.waitForOutput(/tiphub dashboard: http/);
    const login = await fetch(new URL('login', urlIn(proc.output())));
    expect(login.status).toBe(200);
    expect(await proc.stop('SIGTERM')).toBe(0);
    proc = null;
  });
});
