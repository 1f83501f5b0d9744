/**
 * Memory accounting of a training run (spec §3): the bytes of training state the engine holds, by component,
 * and an approximate measured peak of the process.
 *
 * @module
 */

/** Bytes of training state by component. */
export interface TrainingStateBytes {
  /** Model weights (every base tensor once, shared classifier once) plus trainable adapter tensors. */
  weights: number;
  /** Gradient buffers of the trainable tensors (packed selected blocks for SMT). */
  gradients: number;
  /** Adam/AdamW first and second moments. */
  optimizerState: number;
  /** The largest tape of activations one step kept for its backward pass. */
  activations: number;
  /** Anything else the method keeps across steps (SMT's warm-up gradient sums). */
  other: number;
  /** Sum of the above. */
  total: number;
}

/** A process memory sample in bytes (from `process.memoryUsage()`). */
export interface MeasuredMemory {
  /** Resident set size. */
  rss: number;
  /** V8 heap in use. */
  heapUsed: number;
  /** Memory of ArrayBuffers (where every tensor lives). */
  arrayBuffers: number;
}

/** Memory report of a training run. */
export interface TrainingMemoryReport {
  /** Accounted training state of the main phase (for SMT: the sparse phase). */
  accounted: TrainingStateBytes;
  /** SMT only: accounted state of the warm-up phase (full gradients, and full optimizer state when it updates). */
  warmup?: TrainingStateBytes;
  /**
   * Largest values of `process.memoryUsage()` sampled after each step's backward pass. Approximate: garbage
   * collection timing, other work in the process and the runtime's own overhead all show up here, and at
   * small-model scale they dominate. Zero where `process` is unavailable (browsers).
   */
  measuredPeak: MeasuredMemory;
}

/** Builds a {@link TrainingStateBytes} with its total. */
export function stateBytes(parts: Omit<TrainingStateBytes, 'total'>): TrainingStateBytes {
  return {
    ...parts,
    total: parts.weights + parts.gradients + parts.optimizerState + parts.activations + parts.other,
  };
}

/** Samples `process.memoryUsage()` and keeps the per-field maximum. */
export class PeakMemorySampler {
  /** Largest values seen so far. */
  readonly peak: MeasuredMemory = { rss: 0, heapUsed: 0, arrayBuffers: 0 };

  /** Takes one sample (a no-op without `process.memoryUsage`). */
  sample(): void {
    const usage = globalThis.process?.memoryUsage?.();
    if (!usage) return;
    this.peak.rss = Math.max(this.peak.rss, usage.rss);
    this.peak.heapUsed = Math.max(this.peak.heapUsed, usage.heapUsed);
    this.peak.arrayBuffers = Math.max(this.peak.arrayBuffers, usage.arrayBuffers);
  }
}
