/**
 * Memory accounting of a training run (spec §3): the bytes of training state the engine holds, by component,
 * and an approximate measured peak of the process.
 *
 * @module
 */

import type { ActivationParts, CheckpointingMode } from './training-graph.ts';

/** Bytes of training state by component. */
export interface TrainingStateBytes {
  /** Model weights (every base tensor once, shared classifier once) plus trainable adapter tensors. */
  weights: number;
  /** Gradient buffers of the trainable tensors (packed selected blocks for SMT). */
  gradients: number;
  /** Adam/AdamW first and second moments. */
  optimizerState: number;
  /**
   * The largest activation bytes one step held at once for its backward pass: the layers' tapes (or, with
   * checkpointing, the layer inputs plus the one recomputed layer tape) and the head's logits and logit gradient
   * (see `GraphRunResult.activationBytes`).
   */
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
  /** Activation checkpointing the run used. */
  checkpointing: CheckpointingMode;
  /** Accounted training state of the main phase (for SMT: the sparse phase). */
  accounted: TrainingStateBytes;
  /** The parts of the step with the largest activation bytes of the main phase (all 0 when no step ran). */
  activationParts: ActivationParts;
  /** SMT only: accounted state of the warm-up phase (full gradients, and full optimizer state when it updates). */
  warmup?: TrainingStateBytes;
  /**
   * Largest values of `process.memoryUsage()` sampled where a step's held activations may peak (when the loss is
   * known and in each layer's backward) and after each step. Approximate: garbage collection timing, other work in
   * the process and the runtime's own overhead all show up here, and at small-model scale they dominate. Zero
   * where `process` is unavailable (browsers).
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
