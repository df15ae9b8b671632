import sharp from 'sharp';
import { IMAGE_MAX_PIXELS, perceptualHash } from '../../src/media/phash';

// A flat picture compresses to almost nothing, whatever the pixel count it claims.
const flat = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 200 } } })
    .png({ compressionLevel: 9 })
    .toBuffer();

describe('perceptual hash: decoding limits', () => {
  test('a small file that decodes to more pixels than the limit (and less than sharp\'s 268 MP default) gets no hash', async () => {
    const side = 10_000; // 100 MP
    expect(side * side).toBeGreaterThan(IMAGE_MAX_PIXELS);
    const bomb = await flat(side, side);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const started = Date.now();
    await expect(perceptualHash(bomb)).resolves.toBeNull();
    // Refused from the header, not after decoding 300 MB.
    expect(Date.now() - started).toBeLessThan(2000);
  }, 60_000);

  test('a picture within the limit still gets its hash', async () => {
    const ok = await flat(4000, 3000);
    await expect(perceptualHash(ok)).resolves.toMatch(/^[0-9a-f]{16}$/);
  }, 60_000);
});
