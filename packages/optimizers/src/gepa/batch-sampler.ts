import type { SeededRandom } from '../random.ts';

/**
 * GEPA's `EpochShuffledBatchSampler`: reflective minibatches walk through the trainset in a shuffled order, a new
 * shuffle per epoch. When the trainset size is not a multiple of the minibatch size, the epoch is padded with the
 * least-used examples so that every minibatch is full.
 */
export class EpochShuffledBatchSampler {
  private shuffled: number[] = [];
  private epoch = -1;
  private readonly frequency = new Map<number, number>();

  constructor(
    /** Examples per minibatch. */
    readonly minibatchSize: number,
    private readonly rng: SeededRandom,
  ) {}

  private reshuffle(trainsetSize: number): void {
    this.shuffled = this.rng.shuffle(Array.from({ length: trainsetSize }, (_, i) => i));
    for (const id of this.shuffled) this.frequency.set(id, (this.frequency.get(id) ?? 0) + 1);
    const remainder = trainsetSize % this.minibatchSize;
    const padding = remainder === 0 ? 0 : this.minibatchSize - remainder;
    for (let i = 0; i < padding; i++) {
      // Counter.most_common()[::-1][0]: the least used id; among equals, the one counted last.
      let pick = -1;
      let fewest = Number.POSITIVE_INFINITY;
      for (const [id, count] of this.frequency) {
        if (count <= fewest) {
          fewest = count;
          pick = id;
        }
      }
      this.shuffled.push(pick);
      this.frequency.set(pick, fewest + 1);
    }
  }

  /** Trainset indices of the minibatch of iteration `iteration` (0-based). */
  next(trainsetSize: number, iteration: number): number[] {
    let base = iteration * this.minibatchSize;
    const epoch = this.epoch === -1 ? 0 : Math.floor(base / Math.max(this.shuffled.length, 1));
    if (epoch > this.epoch) {
      this.epoch = epoch;
      this.reshuffle(trainsetSize);
    }
    base %= this.shuffled.length;
    return this.shuffled.slice(base, base + this.minibatchSize);
  }
}
