import { utils } from 'gpu.js';
import { describe, expect, it } from 'vitest';
import { closestSquare, outputTextureSize, planMatmulTiles, ranges } from './limits.ts';

const gpuUtils = utils as unknown as {
  getKernelTextureSize(settings: object, dimensions: number[]): Int32Array;
  closestSquareDimensions(length: number): Int32Array;
};

describe('limits', () => {
  it('predicts the texture gpu.js allocates for an output', () => {
    const outputs = [[20000, 2], [20000, 1, 2], [7], [5, 3], [1, 1, 9], [16385, 1], [4, 4, 4], [13, 1, 7]];
    for (const output of outputs) {
      const theirs = Array.from(gpuUtils.getKernelTextureSize({ precision: 'single' }, output));
      expect(outputTextureSize(output), `output [${output.join(', ')}]`).toEqual(theirs);
    }
    // The reason logical 2-D results are written as [cols, 1, rows]: the 2-D form is as wide as its columns.
    expect(outputTextureSize([20000, 2])[0]).toBe(20000);
    expect(Math.max(...outputTextureSize([20000, 1, 2]))).toBeLessThan(16384);
    for (const n of [1, 2, 17, 1000, 65537])
      expect(closestSquare(n)).toEqual(Array.from(gpuUtils.closestSquareDimensions(n)));
  });

  it('splits ranges into consecutive pieces covering everything once', () => {
    expect(ranges(10, 4)).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    expect(ranges(0, 4)).toEqual([]);
  });

  it('plans matmul tiles whose operands and result all fit the element limit', () => {
    for (const [m, k, n, limit] of [
      [7, 13, 5, 64],
      [2, 3, 20000, 64],
      [100, 1, 100, 50],
      [3, 64, 3, 64],
    ] as const) {
      const tiles = planMatmulTiles(m, k, n, limit);
      expect(tiles).not.toBeNull();
      if (!tiles) continue;
      expect(tiles.rows * k).toBeLessThanOrEqual(limit);
      expect(tiles.cols * k).toBeLessThanOrEqual(limit);
      expect(tiles.rows * tiles.cols).toBeLessThanOrEqual(limit);
      expect(tiles.rows).toBeGreaterThanOrEqual(1);
    }
    expect(planMatmulTiles(2, 65, 2, 64)).toBeNull();
    expect(planMatmulTiles(4, 8, 4, 1 << 24)).toEqual({ rows: 4, cols: 4 });
  });
});
