/** The dashboard on the embedded case log (what `tiphub start` serves): list, case page, an action. */
import type { AddressInfo } from 'node:net';
import { harness, type Harness } from '../helpers/harness';
import { buildApp } from '../../src/dashboard/app';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';

let h: Harness;
beforeAll(async () => {
  h = await harness('pglite', { conversation: { enabled: false } });
  await h.sink(h.message({ id: 'p1', from: 'addr-pglite-0001', text: 'Shelling heard near the old hospital', sentAt: '2026-06-10T05:00:00Z' }));
  h.startWorker();
  await h.drained();
  await h.stopWorker();
});
afterAll(async () => {
  await h?.close();
});

test('list, case page and a note on PGlite', async () => {
  const c = await addOperator(h.db, 'sup1', 'supervisor');
  await changePassword(h.db, 'sup1', c.password, 'correct horse battery staple');
  const e = await startTotpEnrolment(h.db, 'sup1');
  await confirmTotpEnrolment(h.db, 'sup1', totpCode(e.secret));
  const s = await createSession(h.db, 'sup1');
  const app = await buildApp({ db: h.db });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const headers = { cookie: `tiphub=${s.token}` };
    const list = (await (await fetch(`${base}/api/cases`, { headers })).json()) as { cases: { ref: string; firstWords: string }[] };
    expect(list.cases).toHaveLength(1);
    const ref = list.cases[0]!.ref;
    const page = await fetch(`${base}/cases/${ref}`, { headers });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('<div class="tip" dir="auto">Shelling heard near the old hospital</div>');
    expect(body).not.toContain('addr-pglite-0001');
    const note = await fetch(`${base}/cases/${ref}/notes`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...headers, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ text: 'checked with the second source', _csrf: s.csrf }).toString(),
    });
    expect(note.status).toBe(303);
    expect(note.headers.get('location')).toBe(`/cases/${ref}`);
    expect(await h.count(`SELECT count(*) AS n FROM events WHERE kind = 'case.note' AND actor = 'sup1'`)).toBe(1);
  } finally {
    await app.close();
  }
});
