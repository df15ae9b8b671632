/** TOTP (RFC 6238) on node:crypto, checked against the RFCs' test vectors; the enrolment QR code. */
import { randomBytes } from 'node:crypto';
import { base32Decode, base32Encode, enrolmentQr, generateTotpSecret, hotp, totpCode, totpStep, totpUri, verifyTotp } from '../../src/operators/totp';

const RFC_KEY = Buffer.from('12345678901234567890', 'ascii');
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP', () => {
  test('RFC 6238 appendix B, the SHA-1 vectors (8 digits)', () => {
    const vectors: [number, string][] = [
      [59, '94287082'],
      [1111111109, '07081804'],
      [1111111111, '14050471'],
      [1234567890, '89005924'],
      [2000000000, '69279037'],
      [20000000000, '65353130'],
    ];
    for (const [t, code] of vectors) expect(hotp(RFC_KEY, totpStep(t * 1000), 8, 'sha1')).toBe(code);
  });

  test('RFC 4226 appendix D, the HOTP vectors (6 digits)', () => {
    const codes = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    codes.forEach((code, counter) => expect(hotp(RFC_KEY, counter)).toBe(code));
  });

  test('base32 as RFC 4648 writes it, and back, as people type it', () => {
    expect(base32Encode(RFC_KEY)).toBe(RFC_SECRET);
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Decode('mzxw 6ytb-oi======').toString()).toBe('foobar');
    for (let n = 0; n < 40; n++) {
      const b = randomBytes(n);
      expect(base32Decode(base32Encode(b)).equals(b)).toBe(true);
    }
    expect(() => base32Decode('not base32!')).toThrow(/base32/);
    const s = generateTotpSecret();
    expect(s).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(s)).toHaveLength(20);
  });

  test('the 6-digit code of the RFC secret at 59 s', () => {
    expect(totpCode(RFC_SECRET, 59_000)).toBe('287082');
  });

  test('a code is accepted one step either side of now, not two', () => {
    const at = 1_700_000_015_000;
    const step = totpStep(at);
    for (const d of [-1, 0, 1]) expect(verifyTotp(RFC_SECRET, hotp(RFC_KEY, step + d), { at })).toBe(step + d);
    for (const d of [-2, 2]) expect(verifyTotp(RFC_SECRET, hotp(RFC_KEY, step + d), { at })).toBeNull();
    expect(verifyTotp(RFC_SECRET, 'abcdef', { at })).toBeNull();
    expect(verifyTotp(RFC_SECRET, '12345', { at })).toBeNull();
    expect(verifyTotp(RFC_SECRET, hotp(RFC_KEY, step).replace(/^(...)/, '$1 '), { at })).toBe(step);
  });

  test('a code is refused for a step already used, or one before it', () => {
    const at = 1_700_000_015_000;
    const step = totpStep(at);
    const code = hotp(RFC_KEY, step);
    expect(verifyTotp(RFC_SECRET, code, { at, lastStep: step - 1 })).toBe(step);
    expect(verifyTotp(RFC_SECRET, code, { at, lastStep: step })).toBeNull();
    expect(verifyTotp(RFC_SECRET, hotp(RFC_KEY, step - 1), { at, lastStep: step })).toBeNull();
    expect(verifyTotp(RFC_SECRET, hotp(RFC_KEY, step + 1), { at, lastStep: step })).toBe(step + 1);
  });

  test('the enrolment URI names the issuer and the operator', () => {
    const uri = totpUri('amina.k', RFC_SECRET);
    expect(uri.startsWith('otpauth://totp/tiphub:amina.k?')).toBe(true);
    const q = new URL(uri).searchParams;
    expect(Object.fromEntries(q)).toEqual({ secret: RFC_SECRET, issuer: 'tiphub', algorithm: 'SHA1', digits: '6', period: '30' });
  });

  test('the enrolment QR code is an SVG document, with no script and no external reference', async () => {
    const svg = await enrolmentQr(totpUri('amina', RFC_SECRET));
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<path');
    expect(svg).not.toMatch(/<script|href=|url\(/i);
  });
});

describe('operator passwords', () => {
  test('the decoy hash for unknown names has the current parameters (so it costs what a real one does)', async () => {
    const { DECOY_HASH, needsRehash, checkPassword, hashPassword } = await import('../../src/operators/password');
    expect(needsRehash(DECOY_HASH)).toBe(false);
    expect(await checkPassword(null, 'anything')).toBe(false);
    const h = await hashPassword('correct horse battery');
    expect(await checkPassword(h, 'correct horse battery')).toBe(true);
    expect(await checkPassword(h, 'correct horse battery!')).toBe(false);
    expect(await checkPassword('not a hash', 'x')).toBe(false);
    expect(await checkPassword(h, 'x'.repeat(300))).toBe(false);
  });
});
