/** The overview map's own projection and clipping (src/dashboard/map.ts). */
import { clipLine, clipRing, fittedMercator } from '../../src/dashboard/map';

test('the fitted Mercator puts the extent inside the box, north up, centred', () => {
  const p = fittedMercator([[38, 29], [49, 38]], [4, 4, 596, 536]);
  const [sw, ne, mid] = [p(38, 29), p(49, 38), p(43.5, 33.5)];
  expect(sw[0]).toBeGreaterThanOrEqual(3.99);
  expect(ne[0]).toBeLessThanOrEqual(596.01);
  expect(ne[1]).toBeLessThan(sw[1]); // north is up
  expect(Math.min(sw[1], ne[1])).toBeGreaterThanOrEqual(3.99);
  expect(Math.max(sw[1], ne[1])).toBeLessThanOrEqual(536.01);
  // One side fills the box; the other is centred.
  const filledX = Math.abs(ne[0] - sw[0] - 592) < 0.01;
  const filledY = Math.abs(sw[1] - ne[1] - 532) < 0.01;
  expect(filledX || filledY).toBe(true);
  expect(mid[0]).toBeGreaterThan(sw[0]);
  expect(mid[0]).toBeLessThan(ne[0]);
});

test('a ring is clipped to the rectangle; one outside vanishes; one inside stays', () => {
  const r = [0, 0, 10, 10] as const;
  const big = clipRing([[-5, -5], [15, -5], [15, 15], [-5, 15]], r);
  expect(big.every(([x, y]) => x >= 0 && x <= 10 && y >= 0 && y <= 10)).toBe(true);
  expect(new Set(big.map((p) => p.join(',')))).toEqual(new Set(['0,0', '10,0', '10,10', '0,10']));
  expect(clipRing([[20, 20], [30, 20], [30, 30]], r)).toEqual([]);
  expect(clipRing([[1, 1], [2, 1], [2, 2]], r)).toEqual([[1, 1], [2, 1], [2, 2]]);
});

test('a line is cut into the pieces inside the rectangle', () => {
  const r = [0, 0, 10, 10] as const;
  // In, out, back in: two pieces, each ending on the edge it crosses.
  expect(clipLine([[5, 5], [15, 5], [15, 8], [5, 8]], r)).toEqual([
    [[5, 5], [10, 5]],
    [[10, 8], [5, 8]],
  ]);
  expect(clipLine([[-5, 20], [20, 20]], r)).toEqual([]);
  expect(clipLine([[-5, 5], [15, 5]], r)).toEqual([[[0, 5], [10, 5]]]);
});
