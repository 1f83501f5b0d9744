import type { Embedder } from '@dspy-ts/core';

/**
 * A deterministic bag-of-words embedder for tests: each lower-cased word adds 1 to a hashed coordinate, so texts
 * sharing words are close under cosine similarity. Records every batch it was asked to embed.
 */
export class HashEmbedder implements Embedder {
  readonly batches: string[][] = [];

  constructor(readonly dimensions = 64) {}

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.batches.push([...texts]);
    return texts.map((text) => {
      const vector = new Float32Array(this.dimensions);
      for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
        let hash = 2166136261;
        for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 16777619);
        vector[(hash >>> 0) % this.dimensions]! += 1;
      }
      if (vector.every((value) => value === 0)) vector[0] = 1;
      return vector;
    });
  }
}
