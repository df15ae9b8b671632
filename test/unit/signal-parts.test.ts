/**
 * Small parts of the Signal adapter, without a server: the reconnect backoff (at once, then
 * doubling with jitter up to the maximum), the server's error text made safe to say (no uuid, no
 * digits, nothing quoted), and how each answer of /v2/send is classified.
 */
import { RATE_LIMIT_WAIT_MS, safeServerText, sendError } from '../../adapters/signal/adapter';
import { SignalHttpError, SignalUnreachable } from '../../adapters/signal/client';
import { backoffMs } from '../../adapters/signal/receive';

test('backoff: the first retry at once, then doubling from the base with 50-100 % jitter, never past the maximum', () => {
  for (let i = 0; i < 50; i++) {
    expect(backoffMs(0, 1_000, 60_000)).toBe(0);
    const one = backoffMs(1, 1_000, 60_000);
    expect(one).toBeGreaterThanOrEqual(500);
    expect(one).toBeLessThanOrEqual(1_000);
    const three = backoffMs(3, 1_000, 60_000);
    expect(three).toBeGreaterThanOrEqual(2_000);
    expect(three).toBeLessThanOrEqual(4_000);
    expect(backoffMs(30, 1_000, 60_000)).toBeLessThanOrEqual(60_000);
    expect(backoffMs(30, 1_000, 60_000)).toBeGreaterThanOrEqual(30_000);
  }
});

test('the server\'s text without what may name someone', () => {
  const said = safeServerText('Failed to send message: +9647701234567 (6f1b8c2e-4d3a-4b7e-9c5f-2a8d1e0b7c34) "Karim Ali" is unknown');
  expect(said).toBe('Failed to send message: # ([id]) "..." is unknown');
  expect(safeServerText(null)).toBe('');
  expect(safeServerText("Couldn't process request - 'Karim' can't be reached")).toBe('Couldn\'t process request - "..." can\'t be reached');
  expect(safeServerText('x'.repeat(500)).length).toBeLessThanOrEqual(161);
  expect(safeServerText('Ошибка 123 ✓')).toBe('#');
});

test('send answers as TiphubErrors that say whether a retry helps', () => {
  const http = (status: number, text: string | null = null, tokens: string[] = []) => sendError(new SignalHttpError(status, text, tokens));
  expect(http(400, 'Failed to send message: Invalid recipient')).toMatchObject({ code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false });
  expect(http(400, 'Unregistered user "+4915112345678"')).toMatchObject({ code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false });
  expect(http(400, 'Failed to send message: java.io.IOException network failure')).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
  expect(http(400, 'something else')).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: false });
  expect(http(429, 'rate limited', ['t'])).toMatchObject({ code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: RATE_LIMIT_WAIT_MS });
  expect(http(429)).toMatchObject({ code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: RATE_LIMIT_WAIT_MS });
  expect(http(401)).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
  expect(http(500)).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
  expect(http(404)).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: false });
  expect(sendError(new SignalUnreachable(true))).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
  for (const e of [http(400, 'Unregistered user "+4915112345678"'), http(400, '+4915112345678 failed')]) expect(e.message).not.toMatch(/\d{4}/);
});
