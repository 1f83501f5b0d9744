/**
 * GEPA's Pareto bookkeeping over per-example validation scores (upstream `gepa/gepa_utils.py`): which programs are
 * best on each validation example, which of them are dominated, and how a parent is sampled from the front.
 */

/** Something that picks one item of a list, such as `SeededRandom`. */
export interface Chooser {
  /** One item of `items`. */
  choice<T>(items: readonly T[]): T;
}

/**
 * Per validation example, the set of programs (indices) with the highest score on it, in program order. Programs
 * are compared on their per-example scores; a tie puts every tied program on the front.
 *
 * @param subscores `subscores[program][example]`: each program's score on each validation example.
 */
export function paretoFronts(subscores: readonly (readonly number[])[]): number[][] {
  const examples = subscores[0]?.length ?? 0;
  const fronts: number[][] = [];
  for (let example = 0; example < examples; example++) {
    let best = Number.NEGATIVE_INFINITY;
    let front: number[] = [];
    for (const [program, scores] of subscores.entries()) {
      const score = scores[example] as number;
      if (score > best) {
        best = score;
        front = [program];
      } else if (score === best) {
        front.push(program);
      }
    }
    fronts.push(front);
  }
  return fronts;
}

/** Whether `program` has, on every front it belongs to, another program of `others` beside it. */
function isDominated(program: number, others: ReadonlySet<number>, fronts: readonly (readonly number[])[]): boolean {
  for (const front of fronts) {
    if (!front.includes(program)) continue;
    if (!front.some((other) => others.has(other))) return false;
  }
  return true;
}

/**
 * The fronts with dominated programs removed (upstream `remove_dominated_programs`). Programs are visited from the
 * lowest aggregate score up, and a program is dropped when every front it is on still holds another program that
 * has not been dropped; the loop restarts after each drop, so every front keeps at least one program.
 *
 * @param aggregateScores Each program's aggregate validation score (lower scores are considered for removal first).
 */
export function removeDominatedPrograms(
  fronts: readonly (readonly number[])[],
  aggregateScores: readonly number[],
): number[][] {
  const seen = new Set<number>();
  for (const front of fronts) for (const program of front) seen.add(program);
  // A stable sort by ascending score; ties keep first-seen order, as Python's `sorted` does.
  const programs = [...seen].sort((a, b) => (aggregateScores[a] ?? 0) - (aggregateScores[b] ?? 0));
  const dominated = new Set<number>();
  let removed = true;
  while (removed) {
    removed = false;
    for (const program of programs) {
      if (dominated.has(program)) continue;
      const others = new Set(programs.filter((p) => p !== program && !dominated.has(p)));
      if (isDominated(program, others, fronts)) {
        dominated.add(program);
        removed = true;
        break;
      }
    }
  }
  return fronts.map((front) => front.filter((program) => !dominated.has(program)));
}

/** The programs left on some front once dominated programs are removed (upstream `find_dominator_programs`), ascending. */
export function findDominatorPrograms(
  fronts: readonly (readonly number[])[],
  aggregateScores: readonly number[],
): number[] {
  const kept = new Set<number>();
  for (const front of removeDominatedPrograms(fronts, aggregateScores)) for (const program of front) kept.add(program);
  return [...kept].sort((a, b) => a - b);
}

/** Index of the first maximum (Python's `lst.index(max(lst))`). */
export function idxmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/**
 * How often each non-dominated program is on a front: the weights of {@link selectParetoCandidate}, in the order
 * programs are first met (front by front).
 */
export function paretoFrequencies(
  fronts: readonly (readonly number[])[],
  aggregateScores: readonly number[],
): Map<number, number> {
  const frequency = new Map<number, number>();
  for (const front of removeDominatedPrograms(fronts, aggregateScores)) {
    for (const program of front) frequency.set(program, (frequency.get(program) ?? 0) + 1);
  }
  return frequency;
}

/**
 * Samples a parent program from the Pareto front (upstream `select_program_candidate_from_pareto_front`): each
 * non-dominated program is drawn with probability proportional to the number of validation examples on which it
 * is (one of) the best. Falls back to the best aggregate program when the fronts are empty.
 */
export function selectParetoCandidate(
  fronts: readonly (readonly number[])[],
  aggregateScores: readonly number[],
  rng: Chooser,
): number {
  const samplingList: number[] = [];
  for (const [program, count] of paretoFrequencies(fronts, aggregateScores)) {
    for (let i = 0; i < count; i++) samplingList.push(program);
  }
  if (samplingList.length === 0) return idxmax(aggregateScores);
  return rng.choice(samplingList);
}
