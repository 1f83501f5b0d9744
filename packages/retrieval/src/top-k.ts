/** Keeps the `k` highest-scoring items seen so far (a bounded min-heap); ties keep the earlier item. */
export class TopK<T> {
  private readonly scores: number[] = [];
  private readonly items: T[] = [];
  private readonly order: number[] = [];
  private seen = 0;

  constructor(private readonly k: number) {}

  /** The lowest score kept, or −∞ while fewer than `k` items are held. */
  get threshold(): number {
    return this.scores.length < this.k ? Number.NEGATIVE_INFINITY : this.scores[0]!;
  }

  /** Offers one item. */
  push(score: number, item: T): void {
    const order = this.seen++;
    if (this.scores.length < this.k) {
      this.scores.push(score);
      this.items.push(item);
      this.order.push(order);
      this.siftUp(this.scores.length - 1);
    } else if (score > this.scores[0]!) {
      this.scores[0] = score;
      this.items[0] = item;
      this.order[0] = order;
      this.siftDown(0);
    }
  }

  /** The kept items, best first. */
  sorted(): { score: number; item: T }[] {
    return this.scores
      .map((score, i) => ({ score, item: this.items[i]!, order: this.order[i]! }))
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .map(({ score, item }) => ({ score, item }));
  }

  // "Less" = worse: lower score, or equal score but seen later (so later ties are evicted first).
  private less(i: number, j: number): boolean {
    return this.scores[i]! < this.scores[j]! || (this.scores[i] === this.scores[j] && this.order[i]! > this.order[j]!);
  }

  private swap(i: number, j: number): void {
    [this.scores[i], this.scores[j]] = [this.scores[j]!, this.scores[i]!];
    [this.items[i], this.items[j]] = [this.items[j]!, this.items[i]!];
    [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.scores.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && this.less(left, smallest)) smallest = left;
      if (right < n && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
