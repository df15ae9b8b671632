/** The dashboard's small parts: escaping, first words, the cursor, the origin check, cookies, roles. */
import type { FastifyRequest } from 'fastify';
import { esc, html, raw, toString } from '../../src/dashboard/html';
import { decodeCursor, encodeCursor, firstWordsOf } from '../../src/dashboard/case-list';
import { sameOrigin } from '../../src/dashboard/plugins/auth';
import { cookiesOf } from '../../src/dashboard/cookies';
import { can, ROLE_PERMISSIONS } from '../../src/dashboard/roles';
import { en, LANGUAGES, stringsFor } from '../../src/dashboard/i18n';
import { ageOf } from '../../src/dashboard/page-parts';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as FastifyRequest;

test('escaping: text and attributes, arrays, raw only when asked', () => {
  expect(esc(`<a href="x" onclick='y'>&\``)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
  const hostile = '"><script>alert(1)</script>';
  expect(toString(html`<p title="${hostile}">${hostile}${[hostile, raw('<b>ok</b>')]}</p>`)).toBe(
    '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;<b>ok</b></p>',
  );
  expect(toString(html`${null}${undefined}${false}${0}`)).toBe('0');
});

test('first words: twelve words or 120 characters, control characters made spaces, code points kept whole', () => {
  expect(firstWordsOf(null)).toBeNull();
  expect(firstWordsOf('a\u001b[31mb c')).toBe('a [31mb c');
  expect(firstWordsOf(Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '))).toBe('w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 …');
  const long = '😀'.repeat(200);
  expect(Array.from(firstWordsOf(long)!)).toHaveLength(122);
});

test('the cursor: round trip, and anything else refused', () => {
  const c = { p: 2, t: '2026-06-10 05:00:00.123456+00', id: 42 };
  expect(decodeCursor(encodeCursor(c))).toEqual(c);
  for (const bad of ['', 'bm9wZQ', Buffer.from('[1,"x; DROP TABLE cases",3]').toString('base64url'), Buffer.from('[1.5,"2026-01-01",3]').toString('base64url')]) {
    expect(() => decodeCursor(bad)).toThrow(/cursor/);
  }
});

test('origin check: Origin, else Referer, against Host or a trusted origin', () => {
  expect(sameOrigin(req({ host: 'localhost:8080', origin: 'http://localhost:8080' }), [])).toBe(true);
  expect(sameOrigin(req({ host: 'localhost:80', origin: 'http://localhost' }), [])).toBe(true);
  expect(sameOrigin(req({ host: 'localhost:8080', referer: 'http://localhost:8080/cases/X' }), [])).toBe(true);
  expect(sameOrigin(req({ host: 'localhost:8080', origin: 'http://localhost:8081' }), [])).toBe(false);
  expect(sameOrigin(req({ host: 'localhost:8080', origin: 'null' }), [])).toBe(false);
  // A browser posting a form of a page sent with no referrer: Origin null, and what it says of the source.
  expect(sameOrigin(req({ host: 'localhost:8080', origin: 'null', 'sec-fetch-site': 'same-origin' }), [])).toBe(true);
  expect(sameOrigin(req({ host: 'localhost:8080', origin: 'null', 'sec-fetch-site': 'cross-site' }), [])).toBe(false);
  expect(sameOrigin(req({ host: 'localhost:8080', origin: 'null', 'sec-fetch-site': 'same-site' }), [])).toBe(false);
  expect(sameOrigin(req({ host: 'localhost:8080', origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }), [])).toBe(false);
  expect(sameOrigin(req({ host: 'localhost:8080' }), [])).toBe(false);
  expect(sameOrigin(req({ host: 'localhost:8080', origin: 'https://evil.example' }), [])).toBe(false);
  expect(sameOrigin(req({ host: '127.0.0.1:8080', origin: 'https://tips.example.org' }), ['https://tips.example.org'])).toBe(true);
});

test('cookies: tokens only, the first of a name kept', () => {
  expect(cookiesOf(req({ cookie: 'tiphub=abc_-1; other="q"; tiphub=second; bad=<x>; =v' }))).toEqual({ tiphub: 'abc_-1', other: 'q' });
  expect(cookiesOf(req({}))).toEqual({});
});

test('roles: analyst ⊂ supervisor ⊂ admin', () => {
  expect(can('analyst', 'status')).toBe(true);
  expect(can('analyst', 'close')).toBe(false);
  expect(can('supervisor', 'assign')).toBe(true);
  expect(can('supervisor', 'operators')).toBe(false);
  for (const p of ROLE_PERMISSIONS.analyst) expect(ROLE_PERMISSIONS.supervisor.has(p)).toBe(true);
  for (const p of ROLE_PERMISSIONS.supervisor) expect(ROLE_PERMISSIONS.admin.has(p)).toBe(true);
});

test('every language table has every string', () => {
  for (const table of Object.values(LANGUAGES)) expect(Object.keys(table).sort()).toEqual(Object.keys(en).sort());
});

test("a row's age is told in the operator's language", () => {
  const now = Date.parse('2026-06-10T12:00:00Z');
  expect(ageOf('2026-06-10T11:55:00Z', now)).toBe('5 min');
  expect(ageOf('2026-06-10T09:00:00Z', now, stringsFor('ar'))).toBe('3 ساعة');
  expect(ageOf('2026-06-05T12:00:00Z', now, stringsFor('ar'))).toBe('5 يوم');
  expect(ageOf('2026-06-05T12:00:00Z', now, stringsFor('en'))).toBe('5 d');
});
