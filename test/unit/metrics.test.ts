/**
 * Issue 14, item 3: the metrics module and the `ops` configuration. Labels take words of fixed
 * lists only (whatever a caller passes), the listener's address is validated at start like every
 * other listener, and readiness names the part that is not ready.
 */
import { loadConfig } from '../../app/config';
import { readiness } from '../../app/hub/ops';
import { createHubMetrics } from '../../src/metrics';
import { tmpDir } from '../helpers/env';
import { parsePrometheusText, sampleValue } from '../helpers/prom-text';

describe('metrics labels', () => {
  test('a channel outside the registry and a reason that is not an error code are counted as other, never as given', async () => {
    const m = createHubMetrics(['simulator', 'telegram']);
    m.pipeline.received('+15550001234');
    m.pipeline.outboundFailed('telegram', 'user 12345 blocked the bot');
    m.pipeline.outboundFailed('telegram', 'TIPHUB_RECIPIENT_UNREACHABLE');
    m.pipeline.mediaStored('telegram', 2048);
    m.pipeline.mediaFailed('telegram', 'TIPHUB_MEDIA_TOO_LARGE');
    m.pipeline.committed('simulator', 'live', 'near', 0.25);
    m.pipeline.committed('simulator', 'live', 'none', -3); // a clock gone back: no latency
    const text = await m.text();
    expect(text).not.toContain('15550001234');
    expect(text).not.toContain('12345');
    const f = parsePrometheusText(text);
    expect(sampleValue(f, 'tiphub_messages_received_total', { channel: 'other' })).toBe(1);
    expect(sampleValue(f, 'tiphub_outbound_failed_total', { channel: 'telegram', reason: 'other' })).toBe(1);
    expect(sampleValue(f, 'tiphub_outbound_failed_total', { channel: 'telegram', reason: 'TIPHUB_RECIPIENT_UNREACHABLE' })).toBe(1);
    expect(sampleValue(f, 'tiphub_media_stored_bytes_total', { channel: 'telegram' })).toBe(2048);
    expect(sampleValue(f, 'tiphub_media_stored_total', { channel: 'telegram' })).toBe(1);
    expect(sampleValue(f, 'tiphub_media_failed_total', { channel: 'telegram', reason: 'TIPHUB_MEDIA_TOO_LARGE' })).toBe(1);
    expect(sampleValue(f, 'tiphub_dedupe_decisions_total', { kind: 'near' })).toBe(1);
    expect(sampleValue(f, 'tiphub_commit_latency_seconds_count')).toBe(1);
    expect(sampleValue(f, 'tiphub_commit_latency_seconds_bucket', { le: '0.25' })).toBe(1);
    expect(sampleValue(f, 'tiphub_commit_latency_seconds_bucket', { le: '0.1' })).toBe(0);
  });

  test('a source that does not answer: its labelled gauges are left out and tiphub_source_up says 0', async () => {
    let fail = false;
    const m = createHubMetrics(['simulator'], {
      queues: async () => {
        if (fail) throw new Error('down');
        return { intake: { waiting: 3, active: 1, delayed: 0, failed: 2 } };
      },
    }, { cacheMs: 0 });
    let f = parsePrometheusText(await m.text());
    expect(sampleValue(f, 'tiphub_queue_jobs', { queue: 'intake', state: 'waiting' })).toBe(3);
    expect(sampleValue(f, 'tiphub_queue_jobs', { queue: 'intake', state: 'failed' })).toBe(2);
    expect(sampleValue(f, 'tiphub_source_up', { source: 'queues' })).toBe(1);
    fail = true;
    f = parsePrometheusText(await m.text());
    expect(sampleValue(f, 'tiphub_queue_jobs', { queue: 'intake', state: 'waiting' })).toBeUndefined();
    expect(sampleValue(f, 'tiphub_source_up', { source: 'queues' })).toBe(0);
  });
});

describe('readiness', () => {
  const ok = async () => true;
  test('ready only when Redis, the case log and every receiver are; the body names what is not', async () => {
    expect(await readiness({ redis: ok, caselog: ok, receivers: async () => ({ telegram: 'connected' }) })).toEqual({ ready: true, redis: 'ok', caselog: 'ok', channels: { telegram: 'ok' } });
    const r = await readiness({ redis: ok, caselog: async () => false, receivers: async () => ({ telegram: 'connected', whatsapp: 'needs-login' }) });
    expect(r).toEqual({ ready: false, redis: 'ok', caselog: 'not answering', channels: { telegram: 'ok', whatsapp: 'needs-login' } });
    const hung = await readiness({ redis: () => new Promise(() => undefined), caselog: null, receivers: () => Promise.reject(new Error('x')) });
    expect(hung.ready).toBe(false);
    expect(hung.redis).toBe('not answering');
  });
});

describe('ops configuration', () => {
  test('default 127.0.0.1:9464; TIPHUB_OPS_LISTEN over the YAML; a bad value and a clash with another listener refused at start', () => {
    const dir = tmpDir();
    expect(loadConfig({ env: {}, cwd: dir }).ops).toEqual({ enabled: true, listen: { host: '127.0.0.1', port: 9464 } });
    expect(loadConfig({ env: { TIPHUB_OPS_LISTEN: '0.0.0.0:9500' }, cwd: dir, overrides: { ops: { listen: { port: 9600 } } } }).ops.listen).toEqual({ host: '0.0.0.0', port: 9500 });
    expect(loadConfig({ env: {}, cwd: dir, overrides: { ops: { listen: { port: 0 } } } }).ops.listen.port).toBe(0);
    // Only a port somebody chose stops the start when taken; the default one costs a warning.
    expect(loadConfig({ env: {}, cwd: dir }).opsListenChosen).toBe(false);
    expect(loadConfig({ env: { TIPHUB_OPS_LISTEN: '127.0.0.1:9500' }, cwd: dir }).opsListenChosen).toBe(true);
    expect(loadConfig({ env: {}, cwd: dir, overrides: { ops: { listen: { port: 9600 } } } }).opsListenChosen).toBe(true);
    expect(loadConfig({ env: {}, cwd: dir, overrides: { ops: { enabled: true } } }).opsListenChosen).toBe(false);
    expect(() => loadConfig({ env: { TIPHUB_OPS_LISTEN: '9464' }, cwd: dir })).toThrow(/environment: TIPHUB_OPS_LISTEN: must be host:port/);
    expect(() => loadConfig({ env: {}, cwd: dir, overrides: { ops: { listen: { port: 70000 } } } })).toThrow(/ops\.listen\.port/);
    expect(() => loadConfig({ env: { TIPHUB_OPS_LISTEN: '127.0.0.1:8080' }, cwd: dir })).toThrow(/listeners: dashboard and ops both listen on port 8080/);
    // Off: no listener, no clash.
    expect(loadConfig({ env: { TIPHUB_OPS_LISTEN: '127.0.0.1:8080' }, cwd: dir, overrides: { ops: { enabled: false } } }).ops.enabled).toBe(false);
  });
});
