/**
 * Learning-rate schedules.
 *
 * @module
 */

/** A learning-rate schedule over a fixed number of steps. */
export interface LrSchedule {
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up from 0 to `lr` (default 0). */
  warmupSteps?: number;
  /** After warm-up: `linear` decay to `minLr` at the end (default) or `constant`. */
  decay?: 'linear' | 'constant';
  /** Learning rate the linear decay ends at (default 0). */
  minLr?: number;
}

/**
 * Learning rate at 0-based `step` of `totalSteps`, as transformers' `get_linear_schedule_with_warmup`:
 * `lr·step/warmup` during warm-up, then `minLr + (lr − minLr)·(total − step)/(total − warmup)`.
 *
 * @example
 * ```ts
 * learningRate(0, 100, { lr: 1e-3 }); // 1e-3
 * learningRate(50, 100, { lr: 1e-3 }); // 5e-4
 * ```
 */
export function learningRate(step: number, totalSteps: number, schedule: LrSchedule): number {
  const warmup = schedule.warmupSteps ?? 0;
  const minLr = schedule.minLr ?? 0;
  if (step < warmup) return (schedule.lr * step) / warmup;
  if (schedule.decay === 'constant') return schedule.lr;
  const remaining = Math.max(0, totalSteps - step) / Math.max(1, totalSteps - warmup);
  return minLr + (schedule.lr - minLr) * remaining;
}
