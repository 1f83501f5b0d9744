import { SeededRandom } from '../random.ts';

/** A value a categorical parameter can take. */
export type CategoricalChoice = string | number | boolean | null;

/** A search space of categorical parameters: each parameter's name and its choices, in order. */
export type CategoricalSpace = Readonly<Record<string, readonly CategoricalChoice[]>>;

/** One value per parameter of the space `S`. */
export type TPEParams<S extends CategoricalSpace> = { [K in keyof S]: S[K][number] };

/** The state of a trial: asked and not told yet, or finished with a value. */
export type TPETrialState = 'running' | 'complete';

/** One trial of a {@link TPESampler} (Optuna's `FrozenTrial`, reduced to what TPE needs). */
export interface TPETrial<S extends CategoricalSpace = CategoricalSpace> {
  /** The trial's number: 0, 1, 2, … in the order trials were asked or added. */
  readonly number: number;
  /** The chosen value of every parameter. */
  readonly params: TPEParams<S>;
  /** `running` until {@link TPESampler.tell} gives its value. */
  readonly state: TPETrialState;
  /** The objective value, once complete. */
  readonly value: number | undefined;
  /** True for trials proposed by the random startup phase (or added from outside, which are never TPE proposals). */
  readonly random: boolean;
}

/** Options of {@link TPESampler} (Optuna's `TPESampler` arguments, camelCased). */
export interface TPESamplerOptions {
  /** Seed of the sampler's generator: the same seed and the same values told give the same proposals. Default 0. */
  seed?: number;
  /** Complete trials needed before TPE takes over from uniform random sampling. Default 10 (Optuna's). */
  nStartupTrials?: number;
  /** Candidates drawn from the good-trial estimator per proposal; the best expected improvement wins. Default 24. */
  nEiCandidates?: number;
  /** How many of `n` complete trials count as good. Default Optuna's `min(ceil(0.1 · n), 25)`. */
  gamma?: (n: number) => number;
  /** Weight of the uniform prior kernel in each Parzen estimator. Default 1. */
  priorWeight?: number;
  /** Whether larger (`maximize`, the default) or smaller values are better. */
  direction?: 'maximize' | 'minimize';
  /**
   * Model the parameters jointly (Optuna's `multivariate=True`, the default here, as MIPROv2 uses it): each good
   * trial is one kernel over all parameters, so combinations that worked together are proposed together. `false`
   * models every parameter on its own.
   */
  multivariate?: boolean;
}

/** Optuna's default `gamma`: the best 10 % of trials, at most 25, at least one. */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's `default_weights`: equal weights, with a linear ramp down for the oldest observations beyond 25. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return Array.from({ length: n }, () => 1);
  const rampLength = n - 25;
  const ramp = Array.from({ length: rampLength }, (_, i) =>
    rampLength === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampLength - 1),
  );
  return [...ramp, ...Array.from({ length: 25 }, () => 1)];
}

/**
 * A Parzen estimator over categorical parameters: a weighted mixture of one kernel per observation plus a uniform
 * prior kernel. Each kernel is, per parameter, a categorical distribution that puts `1 + priorWeight / kernels` on
 * the observed choice and `priorWeight / kernels` on every other one (normalised), as Optuna's categorical kernels.
 */
class CategoricalParzenEstimator {
  /** Mixture weights, one per kernel (observations first, prior last). */
  private readonly weights: number[];
  /** `kernels[k][p][c]`: probability of choice `c` of parameter `p` under kernel `k`. */
  private readonly kernels: number[][][];

  constructor(observations: readonly (readonly number[])[], sizes: readonly number[], priorWeight: number) {
    const kernelCount = observations.length + 1;
    const raw = [...defaultWeights(observations.length), priorWeight];
    const total = raw.reduce((sum, w) => sum + w, 0);
    this.weights = raw.map((w) => w / total);
    const base = priorWeight / kernelCount;
    this.kernels = observations.map((observed) =>
      sizes.map((size, p) => {
        const row = Array.from({ length: size }, () => base);
        row[observed[p] as number] = (row[observed[p] as number] as number) + 1;
        const sum = row.reduce((s, v) => s + v, 0);
        return row.map((v) => v / sum);
      }),
    );
    this.kernels.push(sizes.map((size) => Array.from({ length: size }, () => 1 / size)));
  }

  /** Draws one point: a kernel by weight, then every parameter from that kernel. */
  sample(rng: SeededRandom): number[] {
    const kernel = this.kernels[pickIndex(this.weights, rng)] as number[][];
    return kernel.map((row) => pickIndex(row, rng));
  }

  /** `log p(x)` of the mixture. */
  logPdf(point: readonly number[]): number {
    const terms = this.kernels.map((kernel, k) => {
      let log = Math.log(this.weights[k] as number);
      for (const [p, row] of kernel.entries()) log += Math.log(row[point[p] as number] as number);
      return log;
    });
    return logSumExp(terms);
  }
}

function pickIndex(probabilities: readonly number[], rng: SeededRandom): number {
  const total = probabilities.reduce((sum, p) => sum + p, 0);
  let r = rng.random() * total;
  for (const [i, p] of probabilities.entries()) {
    r -= p;
    if (r < 0) return i;
  }
  return probabilities.length - 1;
}

function logSumExp(values: readonly number[]): number {
  const max = Math.max(...values);
  if (!Number.isFinite(max)) return max;
  return max + Math.log(values.reduce((sum, v) => sum + Math.exp(v - max), 0));
}

interface InternalTrial {
  number: number;
  indices: number[];
  state: TPETrialState;
  value: number | undefined;
  random: boolean;
}

/**
 * A Tree-structured Parzen Estimator over categorical parameters with an ask/tell interface (the part of Optuna's
 * `TPESampler` that MIPROv2 uses, implemented here with no dependency).
 *
 * Until `nStartupTrials` trials are complete, proposals are uniform at random. After that, complete trials are split
 * into good (the best `gamma(n)`) and bad ones; a Parzen estimator `l(x)` is fitted to the good trials and `g(x)` to
 * the bad ones (each with a uniform prior kernel of weight `priorWeight`), `nEiCandidates` points are drawn from
 * `l`, and the one with the largest `log l(x) − log g(x)` — the expected-improvement criterion — is proposed. With
 * `multivariate` (the default) the estimators model all parameters jointly.
 *
 * Everything is seeded: the same seed and the same told values give the same proposals, which is what lets a
 * resumed optimization replay its search exactly.
 *
 * @example
 * ```ts
 * const tpe = new TPESampler({ instruction: [0, 1, 2], demos: [0, 1, 2, 3] }, { seed: 9 });
 * tpe.addTrial({ params: { instruction: 0, demos: 0 }, value: 40 }); // an already evaluated baseline
 * for (let i = 0; i < 20; i++) {
 *   const trial = tpe.ask();
 *   tpe.tell(trial, await score(trial.params));
 * }
 * tpe.bestTrial?.params;
 * ```
 */
export class TPESampler<S extends CategoricalSpace = CategoricalSpace> {
  /** The parameters and their choices. */
  readonly space: S;
  private readonly names: string[];
  private readonly sizes: number[];
  private readonly rng: SeededRandom;
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly gamma: (n: number) => number;
  private readonly priorWeight: number;
  private readonly maximize: boolean;
  private readonly multivariate: boolean;
  private readonly all: InternalTrial[] = [];

  /** @throws {RangeError} when a parameter has no choices or an option is out of range. */
  constructor(space: S, options: TPESamplerOptions = {}) {
    this.space = space;
    this.names = Object.keys(space);
    this.sizes = this.names.map((name) => (space[name] as readonly CategoricalChoice[]).length);
    for (const [i, size] of this.sizes.entries()) {
      if (size === 0) throw new RangeError(`Parameter "${this.names[i]}" has no choices; give it at least one.`);
    }
    this.rng = new SeededRandom(options.seed ?? 0);
    this.nStartupTrials = options.nStartupTrials ?? 10;
    this.nEiCandidates = options.nEiCandidates ?? 24;
    this.gamma = options.gamma ?? defaultGamma;
    this.priorWeight = options.priorWeight ?? 1;
    this.maximize = (options.direction ?? 'maximize') === 'maximize';
    this.multivariate = options.multivariate ?? true;
    if (!Number.isInteger(this.nStartupTrials) || this.nStartupTrials < 0) {
      throw new RangeError(`nStartupTrials must be a non-negative integer, got ${this.nStartupTrials}.`);
    }
    if (!Number.isInteger(this.nEiCandidates) || this.nEiCandidates < 1) {
      throw new RangeError(`nEiCandidates must be a positive integer, got ${this.nEiCandidates}.`);
    }
    if (!(this.priorWeight > 0)) throw new RangeError(`priorWeight must be positive, got ${this.priorWeight}.`);
  }

  /** Every trial so far, in number order. */
  get trials(): TPETrial<S>[] {
    return this.all.map((trial) => this.view(trial));
  }

  /** The number the next asked or added trial gets. */
  get nextNumber(): number {
    return this.all.length;
  }

  /** The complete trial with the best value (the earliest among equals), if any. */
  get bestTrial(): TPETrial<S> | undefined {
    let best: InternalTrial | undefined;
    for (const trial of this.all) {
      if (trial.state !== 'complete') continue;
      if (best === undefined || this.better(trial.value as number, best.value as number)) best = trial;
    }
    return best && this.view(best);
  }

  /** Proposes the parameters of a new trial (state `running` until {@link TPESampler.tell}). */
  ask(): TPETrial<S> {
    const complete = this.all.filter((trial) => trial.state === 'complete');
    const random = complete.length < this.nStartupTrials;
    const indices = random ? this.sizes.map((size) => Math.floor(this.rng.random() * size)) : this.propose(complete);
    const trial: InternalTrial = { number: this.all.length, indices, state: 'running', value: undefined, random };
    this.all.push(trial);
    return this.view(trial);
  }

  /**
   * Records the objective value of a running trial.
   *
   * @throws {RangeError} when the trial is unknown or already complete, or the value is not a finite number.
   */
  tell(trial: TPETrial<S> | number, value: number): TPETrial<S> {
    const number = typeof trial === 'number' ? trial : trial.number;
    const found = this.all[number];
    if (found === undefined) throw new RangeError(`Trial ${number} was never asked.`);
    if (found.state === 'complete') throw new RangeError(`Trial ${number} is already complete.`);
    if (!Number.isFinite(value)) throw new RangeError(`Trial ${number} needs a finite value, got ${value}.`);
    found.state = 'complete';
    found.value = value;
    return this.view(found);
  }

  /**
   * Adds a trial that was evaluated elsewhere (Optuna's `study.add_trial`), e.g. the baseline program. It counts
   * towards the startup trials and the estimators like any other.
   *
   * @throws {RangeError} when a parameter is missing or its value is not one of its choices.
   */
  addTrial(trial: { params: TPEParams<S>; value: number }): TPETrial<S> {
    if (!Number.isFinite(trial.value)) throw new RangeError(`An added trial needs a finite value, got ${trial.value}.`);
    const indices = this.names.map((name) => {
      const value = (trial.params as Record<string, CategoricalChoice>)[name];
      const index = (this.space[name] as readonly CategoricalChoice[]).indexOf(value as CategoricalChoice);
      if (index < 0) {
        throw new RangeError(
          `Parameter "${name}" of an added trial is ${JSON.stringify(value)}, which is not one of its choices ` +
            `${JSON.stringify(this.space[name])}.`,
        );
      }
      return index;
    });
    const added: InternalTrial = {
      number: this.all.length,
      indices,
      state: 'complete',
      value: trial.value,
      random: true,
    };
    this.all.push(added);
    return this.view(added);
  }

  private better(a: number, b: number): boolean {
    return this.maximize ? a > b : a < b;
  }

  /** TPE proper: split, fit `l` and `g`, draw candidates from `l`, keep the best `l/g`. */
  private propose(complete: readonly InternalTrial[]): number[] {
    // A stable sort keeps the earlier trial first among equal values.
    const ranked = [...complete].sort((a, b) =>
      this.maximize ? (b.value as number) - (a.value as number) : (a.value as number) - (b.value as number),
    );
    const nBelow = Math.max(0, Math.min(ranked.length, this.gamma(ranked.length)));
    const byNumber = (a: InternalTrial, b: InternalTrial) => a.number - b.number;
    const below = ranked.slice(0, nBelow).sort(byNumber);
    const above = ranked.slice(nBelow).sort(byNumber);
    if (this.multivariate)
      return this.proposeGroup(
        below,
        above,
        this.names.map((_, i) => i),
      );
    return this.names.map((_, p) => this.proposeGroup(below, above, [p])[0] as number);
  }

  private proposeGroup(below: readonly InternalTrial[], above: readonly InternalTrial[], params: number[]): number[] {
    const sizes = params.map((p) => this.sizes[p] as number);
    const project = (trials: readonly InternalTrial[]) =>
      trials.map((trial) => params.map((p) => trial.indices[p] as number));
    const good = new CategoricalParzenEstimator(project(below), sizes, this.priorWeight);
    const bad = new CategoricalParzenEstimator(project(above), sizes, this.priorWeight);
    let best: number[] = [];
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.nEiCandidates; i++) {
      const candidate = good.sample(this.rng);
      const score = good.logPdf(candidate) - bad.logPdf(candidate);
      if (score > bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    return best;
  }

  private view(trial: InternalTrial): TPETrial<S> {
    const params = Object.fromEntries(
      this.names.map((name, p) => [
        name,
        (this.space[name] as readonly CategoricalChoice[])[trial.indices[p] as number],
      ]),
    ) as TPEParams<S>;
    return { number: trial.number, params, state: trial.state, value: trial.value, random: trial.random };
  }
}
