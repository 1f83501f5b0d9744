import { DspyError } from '../errors.ts';
import { normalizeText } from '../evaluate/metrics.ts';
import { Completions } from '../primitives/completions.ts';
import { Prediction } from '../primitives/prediction.ts';

/** Options of {@link majority}. */
export interface MajorityOptions {
  /**
   * Maps a value to its voting key; `null`/`undefined` keys are ignored (unless every key is). Default: DSPy's
   * `normalize_text` (empty results ignored); pass `null` to compare raw values.
   */
  normalize?: ((value: unknown) => unknown) | null;
  /** The field voted on; defaults to the last output field of the signature (else the last key). */
  field?: string;
}

function defaultNormalize(value: unknown): string | null {
  return normalizeText(String(value)) || null;
}

/**
 * The most common completion for one field (DSPy's `dspy.majority`). Ties go to the value seen earliest, and the
 * first completion with the winning value is returned, as a `Prediction` (with that completion in `.completions`).
 *
 * @throws {DspyError} (`invalid_argument`) when there are no completions.
 *
 * @example
 * ```ts
 * const pred = await new ChainOfThought('question -> answer', { n: 5 }).call({ question });
 * majority(pred).answer; // the most frequent answer
 * ```
 */
export function majority(
  predOrCompletions: Prediction | Completions | readonly (Prediction | Record<string, unknown>)[],
  options: MajorityOptions = {},
): Prediction {
  let completions: Completions;
  if (predOrCompletions instanceof Completions) {
    completions = predOrCompletions;
  } else if (predOrCompletions instanceof Prediction) {
    completions =
      predOrCompletions.completions ?? new Completions([predOrCompletions.toDict() as Record<string, unknown>]);
  } else if (Array.isArray(predOrCompletions)) {
    completions = new Completions(
      predOrCompletions.map((c) => (c instanceof Prediction ? (c.toDict() as Record<string, unknown>) : c)),
    );
  } else {
    throw new DspyError('invalid_argument', 'majority() expects a Prediction, a Completions object or a list.');
  }
  if (completions.length === 0) throw new DspyError('invalid_argument', 'majority() needs at least one completion.');

  const field =
    options.field ?? completions.signature?.outputFields.at(-1)?.name ?? completions.keys().at(-1) ?? 'answer';
  const normalize = options.normalize === undefined ? defaultNormalize : (options.normalize ?? ((v: unknown) => v));
  const candidates = [...completions];
  const keys = candidates.map((c) => normalize(c.get(field)));
  const voting = keys.filter((k) => k !== null && k !== undefined);
  const counts = new Map<unknown, number>();
  for (const key of voting.length > 0 ? voting : keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  let winner: unknown;
  let best = -1;
  // Map iteration follows first appearance, so a strict `>` keeps the earliest value on ties.
  for (const [key, count] of counts) {
    if (count > best) {
      best = count;
      winner = key;
    }
  }
  const index = keys.indexOf(winner);
  const chosen = candidates[index] as Prediction;
  return Prediction.fromCompletions([chosen.toDict() as Record<string, unknown>], completions.signature);
}
