import type { Embedder, Example } from '@dspy-ts/core';

function inputText(entries: [string, unknown][]): string {
  return entries
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' | ');
}

/**
 * The `k` training examples nearest to some inputs (DSPy's `dspy.KNN`): examples are embedded as
 * `"key: value | key: value"` over their input keys, queries the same way over the given inputs, and ranked by dot
 * product, highest first. The trainset is embedded once, on the first query.
 */
export class KNN {
  private vectors: Promise<Float32Array[]> | undefined;

  constructor(
    /** Neighbours returned per query. */
    readonly k: number,
    /** The examples searched, each with input keys set. */
    readonly trainset: readonly Example[],
    /** Turns texts into vectors. */
    readonly vectorizer: Embedder,
  ) {}

  /** The `k` nearest examples to `inputs`, nearest first. */
  async call(inputs: Record<string, unknown>, options: { signal?: AbortSignal } = {}): Promise<Example[]> {
    this.vectors ??= this.vectorizer.embed(
      this.trainset.map((example) => {
        const keys = example.inputKeys ?? new Set<string>();
        return inputText(example.items().filter(([key]) => keys.has(key)));
      }),
      options,
    );
    const vectors = await this.vectors.catch((error: unknown) => {
      this.vectors = undefined;
      throw error;
    });
    const [query] = await this.vectorizer.embed([inputText(Object.entries(inputs))], options);
    const scores = vectors.map((vector) => {
      let dot = 0;
      for (let i = 0; i < vector.length; i++) dot += (vector[i] as number) * ((query as Float32Array)[i] ?? 0);
      return dot;
    });
    // numpy's `argsort()[-k:][::-1]`: highest first; among equal scores the later example comes first.
    const order = scores
      .map((_, index) => index)
      .sort((a, b) => (scores[b] as number) - (scores[a] as number) || b - a);
    return order.slice(0, this.k).map((index) => this.trainset[index] as Example);
  }
}
