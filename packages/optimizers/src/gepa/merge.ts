import type { SeededRandom } from '../random.ts';

/** A GEPA candidate: the instruction of every predictor, by predictor name. */
export type GEPACandidate = Record<string, string>;

/** What has been merged already (upstream `merges_performed`). */
export interface MergeHistory {
  /** `(i, j, ancestor)` triplets that produced a merge. */
  triplets: [number, number, number][];
  /** `(i, j, descendants)`: the parents and which program each component came from. */
  descriptions: [number, number, number[]][];
}

/** A merged candidate and where it came from. */
export interface MergeProposal {
  /** The merged instructions. */
  candidate: GEPACandidate;
  /** The two parents, lower index first. */
  id1: number;
  /** The second parent. */
  id2: number;
  /** Their common ancestor. */
  ancestor: number;
}

/** The program state {@link proposeMerge} reads. */
export interface MergePool {
  /** Every candidate so far, by index. */
  candidates: readonly GEPACandidate[];
  /** Each candidate's parents (`[null]` for the seed). */
  parents: readonly (readonly (number | null)[])[];
  /** Each candidate's aggregate validation score. */
  aggregateScores: readonly number[];
}

function ancestorsOf(node: number, parents: MergePool['parents'], found = new Set<number>()): Set<number> {
  for (const parent of parents[node] ?? []) {
    if (parent !== null && !found.has(parent)) {
      found.add(parent);
      ancestorsOf(parent, parents, found);
    }
  }
  return found;
}

/** Whether some component is unchanged from the ancestor in one program and changed in the other. */
function hasDesirablePredictors(candidates: readonly GEPACandidate[], ancestor: number, i: number, j: number): boolean {
  const base = candidates[ancestor] as GEPACandidate;
  const left = candidates[i] as GEPACandidate;
  const right = candidates[j] as GEPACandidate;
  return Object.keys(base).some(
    (name) => (base[name] === left[name] || base[name] === right[name]) && left[name] !== right[name],
  );
}

function weightedChoice(rng: SeededRandom, items: readonly number[], weights: readonly number[]): number {
  const total = weights.reduce((sum, w) => sum + w, 0);
  // Python's `random.choices` rejects all-zero weights; a uniform pick keeps the merge possible instead.
  if (!(total > 0)) return rng.choice(items);
  let point = rng.random() * total;
  for (const [k, item] of items.entries()) {
    point -= weights[k] as number;
    if (point < 0) return item;
  }
  return items.at(-1) as number;
}

/**
 * Picks two programs with a common ancestor that neither descends from the other (upstream
 * `find_common_ancestor_pair`): the ancestor must score no better than either, must not have produced this merge
 * already, and must leave some component that only one of the two changed. The ancestor is drawn with weights equal
 * to the aggregate scores.
 */
export function findCommonAncestorPair(
  rng: SeededRandom,
  programIndexes: readonly number[],
  pool: MergePool,
  history: MergeHistory,
  maxAttempts = 10,
): [number, number, number] | undefined {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (programIndexes.length < 2) return undefined;
    let [i, j] = rng.sample(programIndexes, 2) as [number, number];
    if (i === j) continue;
    if (j < i) [i, j] = [j, i];
    const ancestorsI = ancestorsOf(i, pool.parents);
    const ancestorsJ = ancestorsOf(j, pool.parents);
    if (ancestorsI.has(j) || ancestorsJ.has(i)) continue;
    const common = [...ancestorsI]
      .filter((a) => ancestorsJ.has(a))
      .sort((a, b) => a - b)
      .filter(
        (a) =>
          !history.triplets.some(([x, y, z]) => x === i && y === j && z === a) &&
          (pool.aggregateScores[a] as number) <= (pool.aggregateScores[i] as number) &&
          (pool.aggregateScores[a] as number) <= (pool.aggregateScores[j] as number) &&
          hasDesirablePredictors(pool.candidates, a, i, j),
      );
    if (common.length > 0) {
      const ancestor = weightedChoice(
        rng,
        common,
        common.map((a) => pool.aggregateScores[a] as number),
      );
      return [i, j, ancestor];
    }
  }
  return undefined;
}

/**
 * Merges two lineages (upstream `sample_and_attempt_merge_programs_by_common_predictors`): starting from a common
 * ancestor, every component that one descendant changed and the other kept takes the changed text; where both
 * changed it, the better-scoring descendant's text wins (a coin flip on ties); where both agree, that text is kept.
 * A combination already tried is skipped. Returns `undefined` when no pair qualifies.
 *
 * @param mergeCandidates The programs eligible as parents (the non-dominated ones).
 */
export function proposeMerge(
  rng: SeededRandom,
  mergeCandidates: readonly number[],
  pool: MergePool,
  history: MergeHistory,
  maxAttempts = 10,
): MergeProposal | undefined {
  if (mergeCandidates.length < 2 || pool.parents.length < 3) return undefined;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const pair = findCommonAncestorPair(rng, mergeCandidates, pool, history);
    if (pair === undefined) continue;
    const [id1, id2, ancestor] = pair;
    const base = pool.candidates[ancestor] as GEPACandidate;
    const left = pool.candidates[id1] as GEPACandidate;
    const right = pool.candidates[id2] as GEPACandidate;
    const candidate: GEPACandidate = { ...base };
    const description: number[] = [];
    for (const name of Object.keys(base)) {
      let source: number;
      if ((base[name] === left[name] || base[name] === right[name]) && left[name] !== right[name]) {
        source = base[name] === left[name] ? id2 : id1;
      } else if (base[name] !== left[name] && base[name] !== right[name]) {
        const s1 = pool.aggregateScores[id1] as number;
        const s2 = pool.aggregateScores[id2] as number;
        source = s1 > s2 ? id1 : s2 > s1 ? id2 : rng.choice([id1, id2]);
      } else {
        source = id1;
      }
      candidate[name] = (pool.candidates[source] as GEPACandidate)[name] as string;
      description.push(source);
    }
    const key = description.join(',');
    if (history.descriptions.some(([x, y, d]) => x === id1 && y === id2 && d.join(',') === key)) continue;
    history.descriptions.push([id1, id2, description]);
    return { candidate, id1, id2, ancestor };
  }
  return undefined;
}

/**
 * The validation examples a merged program is scored on before a full evaluation (upstream
 * `select_eval_subsample_for_merged_program`): up to `ceil(n / 3)` each where the first parent is better, where the
 * second is better, and where they tie, topped up from the rest (or with repeats when there are too few).
 */
export function selectMergeSubsample(
  rng: SeededRandom,
  scores1: readonly number[],
  scores2: readonly number[],
  count = 5,
): number[] {
  const ids = scores1.map((_, i) => i);
  const better1 = ids.filter((i) => (scores1[i] as number) > (scores2[i] as number));
  const better2 = ids.filter((i) => (scores2[i] as number) > (scores1[i] as number));
  const tied = ids.filter((i) => !better1.includes(i) && !better2.includes(i));
  const each = Math.max(1, Math.ceil(count / 3));
  const selected: number[] = [];
  for (const bucket of [better1, better2, tied]) {
    if (selected.length >= count) break;
    const available = bucket.filter((i) => !selected.includes(i));
    const take = Math.min(available.length, each, count - selected.length);
    if (take > 0) selected.push(...rng.sample(available, take));
  }
  const remaining = count - selected.length;
  if (remaining > 0) {
    const unused = ids.filter((i) => !selected.includes(i));
    if (unused.length >= remaining) selected.push(...rng.sample(unused, remaining));
    else for (let k = 0; k < remaining; k++) selected.push(rng.choice(ids));
  }
  return selected.slice(0, count);
}
