/** The media folder replaced by a file: storing fails as retryable (fetched again later), never as a missing file. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { MediaStore } from '../../src/media/store';
import { isTiphubError } from '../../src/errors';
import { tmpDir } from '../helpers/env';

test('a media folder that is a file: TIPHUB_MEDIA_STORE_FAILED (retryable); restored, the same bytes store', async () => {
  const dir = tmpDir();
  const root = path.join(dir, 'media');
  const store = new MediaStore(root);
  try {
    fs.writeFileSync(root, 'not a folder');
    const err = await store.put(Readable.from([Buffer.from('picture bytes')]), 1000).catch((e: unknown) => e);
    expect(isTiphubError(err, 'TIPHUB_MEDIA_STORE_FAILED')).toBe(true);
    expect((err as { retryable: boolean }).retryable).toBe(true);
    expect((err as Error).message).not.toContain(dir); // no path in the message
    fs.rmSync(root);
    const ok = await store.put(Readable.from([Buffer.from('picture bytes')]), 1000);
    expect(fs.readFileSync(ok.path, 'utf8')).toBe('picture bytes');
    // A download that fails is still the download's error, not the store's.
    const broken = new Readable({ read() { this.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' })); } });
    const e2 = await store.put(broken, 1000).catch((e: unknown) => e);
    expect(isTiphubError(e2)).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
