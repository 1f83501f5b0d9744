import {
  type Adapter,
  ChatAdapter,
  type ChatFinetuneRecord,
  type Demo,
  Example,
  type Finetuner,
  getSetting,
  type LanguageModelV1,
  type Metric,
  type Module,
  metricScore,
  Prediction,
  type ProgressEvent,
} from '@dspy-ts/core';
import type { CompileContext } from '../compile-context.ts';
import { OptimizerError } from '../optimizer-error.ts';
import { SeededRandom } from '../random.ts';
import {
  type Compiled,
  type CompileEstimate,
  type CompileOptions,
  type CompileOutcome,
  callsPerRun,
  type EstimateOptions,
  makeEstimate,
  Teleprompter,
} from '../teleprompter.ts';
import { traceProgramRun } from './trace-run.ts';

/** A value given once for every LM, or per LM. */
export type PerLM<T> = T | Map<LanguageModelV1, T>;

/** Options of {@link BootstrapFinetune} (DSPy's keyword arguments, camelCased). */
export interface BootstrapFinetuneOptions {
  /** Keeps a teacher run when `metric(example, prediction, trace)` is truthy. Without one, every run is kept. */
  metric?: Metric;
  /** One fine-tuning job per LM on the steps of all the predictors using it (default), or one per predictor. */
  multitask?: boolean;
  /** Settings handed to the finetuner (learning rate, epochs…), for every LM or per LM. */
  trainKwargs?: PerLM<Record<string, unknown>>;
  /** Formats the records, for every LM or per LM. Default: the `adapter` setting, else `ChatAdapter`. */
  adapter?: PerLM<Adapter>;
  /** Records without demos, and fine-tuned predictors without demos. Default false. */
  excludeDemos?: boolean;
  /** Teacher runs at the same time. Default: the `numThreads` setting. */
  numThreads?: number;
  /**
   * Trains the new LMs, for every LM or per LM. Default: the LM itself when it implements `Finetuner` (a
   * `finetune` method, as DSPy's `lm.finetune`).
   */
  finetuner?: PerLM<Finetuner>;
  /** Seed of the record shuffle. Default 0 (DSPy's `Random(0)`). */
  seed?: number;
}

/** A fine-tuning job's progress event, labelled with its job. */
export interface FinetuneJobProgressEvent extends ProgressEvent {
  /** The job: the model id, plus the predictor name for per-predictor jobs. */
  job: string;
}

/** Compile options of {@link BootstrapFinetune}. */
export interface BootstrapFinetuneCompileOptions extends Omit<CompileOptions, 'teacher'> {
  /** The program(s) whose successful runs become training data. Default: the student. */
  teacher?: Module<any, any, any> | readonly Module<any, any, any>[];
  /** Receives the progress events of the fine-tuning jobs. */
  onFinetuneProgress?: (event: FinetuneJobProgressEvent) => void;
}

/** {@link BootstrapFinetuneCompileOptions} as the compile runs them: the teachers as a list. */
export interface BootstrapFinetuneRunOptions extends CompileOptions {
  /** The teachers; absent means the student. */
  teachers?: readonly Module<any, any, any>[];
  /** Receives the progress events of the fine-tuning jobs. */
  onFinetuneProgress?: (event: FinetuneJobProgressEvent) => void;
}

/** One stored trace step: the predictor (by name) and what it saw and produced, as JSON. */
interface StoredStep {
  predictor: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** The stored result of one teacher run on one example. */
interface TraceOutcome {
  success: boolean;
  steps: StoredStep[];
  error?: string;
}

function perLM<T>(value: PerLM<T> | undefined, lm: LanguageModelV1): T | undefined {
  return value instanceof Map ? value.get(lm) : value;
}

function isFinetuner(value: unknown): value is Finetuner {
  return typeof (value as Finetuner | undefined)?.finetune === 'function';
}

function plainDemo(demo: Demo): Record<string, unknown> {
  return demo instanceof Example
    ? (demo.toDict() as Record<string, unknown>)
    : { ...(demo as Record<string, unknown>) };
}

/** JSON round trip, so a fresh run stores exactly what a resumed run reads back. */
function asJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Every predictor must have its own LM: fine-tuning replaces it. */
function requireLMs(program: Module<any, any, any>): void {
  for (const [name, predictor] of program.namedPredictors()) {
    if (!predictor.lm) {
      throw new OptimizerError(
        `Predictor "${name}" does not have an LM assigned. BootstrapFinetune fine-tunes each predictor's own LM: ` +
          'set them before compiling, e.g. `program.setLm(lm)` or `program.<predictor>.lm = lm`.',
      );
    }
  }
}

/** The teacher after DSPy's `prepare_teacher`: a copy with the student's structure. */
function prepareTeacher(student: Module<any, any, any>, teacher: Module<any, any, any> | undefined) {
  if (teacher === undefined) return student.deepCopy();
  const s = student.namedPredictors();
  const t = teacher.namedPredictors();
  if (s.length !== t.length || s.some(([name], i) => name !== t[i]?.[0])) {
    throw new OptimizerError(
      'The teacher must have the same predictors as the student (same names, same order): the student has ' +
        `[${s.map(([n]) => n).join(', ')}], the teacher [${t.map(([n]) => n).join(', ')}].`,
    );
  }
  for (const [i, [name, predictor]] of s.entries()) {
    if (!predictor.signature.equals((t[i] as [string, typeof predictor])[1].signature)) {
      throw new OptimizerError(`The teacher's predictor "${name}" has a different signature from the student's.`);
    }
  }
  return teacher.deepCopy();
}

/**
 * Fine-tunes the student's LMs on its teacher's successful traces (DSPy's `BootstrapFinetune`).
 *
 * Every teacher (default: the student) runs on every training example with a trace; the runs the metric accepts
 * (truthy `metric(example, prediction, trace)`) are kept, and each of their predictor calls becomes one chat record
 * through the adapter's `formatFinetuneData` — the predictor's demos (unless `excludeDemos`), its inputs, and its
 * outputs as the assistant turn — shuffled with the seeded generator. One `finetuner.finetune(records, { baseLM,
 * trainKwargs, onProgress, signal })` job runs per LM (`multitask`, default) or per (LM, predictor), and the result
 * is a copy of the student whose predictors use the fine-tuned LMs.
 *
 * Teacher runs are checkpointed units (resumable); fine-tuning jobs are not — a resumed compile starts them again,
 * and a finetuner that checkpoints its own work resumes there.
 *
 * @example
 * ```ts
 * program.setLm(smallLM);
 * const optimizer = new BootstrapFinetune({ metric, finetuner: myFinetuner, trainKwargs: { epochs: 2 } });
 * const tuned = await optimizer.compile(program, { trainset, teacher: bigProgram });
 * ```
 */
export class BootstrapFinetune extends Teleprompter<BootstrapFinetuneRunOptions> {
  /** The optimizer's name. */
  readonly name = 'BootstrapFinetune';
  /** The options, with defaults applied. */
  readonly options: BootstrapFinetuneOptions & { multitask: boolean; excludeDemos: boolean; seed: number };

  constructor(options: BootstrapFinetuneOptions = {}) {
    super();
    this.options = { multitask: true, excludeDemos: false, seed: 0, ...options };
  }

  /**
   * Compiles `student` (see {@link Teleprompter.compile}).
   *
   * @throws {OptimizerError} when a predictor has no LM, a teacher differs in structure, or no finetuner is known
   *   for an LM.
   */
  override async compile<T extends Module<any, any, any>>(
    student: T,
    options: BootstrapFinetuneCompileOptions,
  ): Promise<Compiled<T>> {
    requireLMs(student);
    const { teacher, ...rest } = options;
    const teachers = teacher === undefined ? undefined : Array.isArray(teacher) ? [...teacher] : [teacher as Module];
    return super.compile(student, { ...rest, ...(teachers === undefined ? {} : { teachers }) });
  }

  /** The base fingerprint, without the progress callback (it does not change the result). */
  protected override fingerprint(
    student: Module<any, any, any>,
    options: BootstrapFinetuneRunOptions,
  ): Record<string, string> {
    const { onFinetuneProgress: _progress, ...rest } = options;
    return super.fingerprint(student, rest);
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: BootstrapFinetuneRunOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    requireLMs(student);
    const o = this.options;
    const predictors = student.namedPredictors();
    // Resolve every job's finetuner before spending anything.
    for (const [name, predictor] of predictors) this.finetunerFor(predictor.lm as LanguageModelV1, name);

    const teachers = (options.teachers ?? [undefined]).map((t) => prepareTeacher(student, t));
    const runs: { teacher: Module<any, any, any>; outcome: TraceOutcome }[] = [];
    ctx.startLoop(teachers.length * options.trainset.length, 'examples');
    for (const [t, teacher] of teachers.entries()) {
      ctx.journalProgram(teacher);
      const outcomes = await this.traceTeacher(teacher, options.trainset, ctx, `trace/${t}`);
      for (const outcome of outcomes) runs.push({ teacher, outcome });
    }

    // One job per (LM, predictor-or-multitask) key, in predictor order.
    const jobs = new Map<string, { lm: LanguageModelV1; predictor: string | null; names: string[] }>();
    const lmIds = new Map<LanguageModelV1, number>();
    for (const [name, predictor] of predictors) {
      const lm = predictor.lm as LanguageModelV1;
      if (!lmIds.has(lm)) lmIds.set(lm, lmIds.size);
      const key = `${lmIds.get(lm)}/${o.multitask ? '*' : name}`;
      const job = jobs.get(key) ?? { lm, predictor: o.multitask ? null : name, names: [] };
      job.names.push(name);
      jobs.set(key, job);
    }

    const tuned = new Map<string, LanguageModelV1>();
    await Promise.all(
      [...jobs.entries()].map(async ([key, job]) => {
        const records = this.records(runs, job.lm, job.names);
        const label = job.predictor === null ? job.lm.modelId : `${job.lm.modelId} (${job.predictor})`;
        console.info(`BootstrapFinetune: using ${records.length} records to fine-tune ${label}.`);
        ctx.throwIfAborted();
        const trainKwargs = perLM(o.trainKwargs, job.lm);
        const finetuner = this.finetunerFor(job.lm, job.names[0] as string);
        try {
          const lm = await finetuner.finetune(records, {
            baseLM: job.lm,
            ...(trainKwargs === undefined ? {} : { trainKwargs }),
            onProgress: (event) => options.onFinetuneProgress?.({ ...event, job: label }),
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          tuned.set(key, lm);
        } catch (error) {
          ctx.throwIfAborted();
          throw new OptimizerError(`Fine-tuning ${label} failed: ${(error as Error)?.message ?? error}`, {
            cause: error,
          });
        }
      }),
    );

    const program = student.deepCopy();
    for (const [name, predictor] of program.namedPredictors()) {
      const key = `${lmIds.get(predictor.lm as LanguageModelV1)}/${o.multitask ? '*' : name}`;
      predictor.lm = tuned.get(key) as LanguageModelV1;
      if (o.excludeDemos) predictor.demos = [];
    }
    program.compiled = true;
    return { program };
  }

  private finetunerFor(lm: LanguageModelV1, predictor: string): Finetuner {
    const finetuner = perLM(this.options.finetuner, lm) ?? (isFinetuner(lm) ? lm : undefined);
    if (!finetuner) {
      throw new OptimizerError(
        `No finetuner for the LM "${lm.modelId}" of predictor "${predictor}": pass \`finetuner\` (a Finetuner, or a ` +
          'Map from LM to Finetuner), or use an LM that implements Finetuner.',
      );
    }
    return finetuner;
  }

  /** Runs one teacher on the trainset, one checkpointed unit per example. */
  private async traceTeacher(
    teacher: Module<any, any, any>,
    trainset: readonly Example[],
    ctx: CompileContext,
    key: string,
  ): Promise<TraceOutcome[]> {
    const names = new Map(teacher.namedPredictors().map(([name, predictor]) => [predictor, name]));
    const maxErrors = getSetting('maxErrors');
    const outcomes: TraceOutcome[] = new Array(trainset.length);
    let errors = 0;
    const runOne = async (index: number): Promise<void> => {
      const example = trainset[index] as Example;
      const outcome = await ctx.unit<TraceOutcome>(`${key}/${index}`, async () => {
        const run = await traceProgramRun(teacher, example, ctx.signal).catch((error: unknown) => {
          ctx.throwIfAborted();
          throw error;
        });
        let failure = run.error;
        let success = false;
        if (failure === undefined) {
          try {
            success = this.options.metric
              ? metricScore(await this.options.metric(example, run.prediction, run.trace)) !== 0
              : true;
          } catch (error) {
            failure = error;
          }
        }
        if (failure !== undefined) {
          // The error that reaches `maxErrors` is raised and not stored, so a resumed compile retries it.
          if (errors + 1 >= maxErrors) throw failure;
          const text = (failure as Error)?.message ?? String(failure);
          console.error(`Failed to run or to evaluate example ${example.toString()} due to ${text}.`);
          return { success: false, steps: [], error: text };
        }
        const steps: StoredStep[] = run.trace.flatMap((step) => {
          const name = names.get(step.predictor);
          if (name === undefined) return [];
          const outputs: Record<string, unknown> =
            step.prediction instanceof Prediction
              ? Object.fromEntries(step.prediction.items())
              : { ...(step.prediction as Record<string, unknown>) };
          return [{ predictor: name, inputs: step.inputs, outputs }];
        });
        return asJson({ success, steps });
      });
      if (outcome.error !== undefined) errors++;
      outcomes[index] = outcome;
      ctx.advance('bootstrap', { label: `${key}: example ${index}` });
    };
    const threads = Math.max(
      1,
      Math.min(trainset.length, Math.floor(this.options.numThreads ?? getSetting('numThreads'))),
    );
    let next = 0;
    let fatal: unknown;
    await Promise.all(
      Array.from({ length: threads }, async () => {
        while (fatal === undefined && next < trainset.length) {
          try {
            await runOne(next++);
          } catch (error) {
            fatal ??= error;
          }
        }
      }),
    );
    if (fatal !== undefined) throw fatal;
    return outcomes;
  }

  /**
   * DSPy's `_prepare_finetune_data`: the chat records of one job — the steps of the job's predictors (all the
   * predictors sharing its LM when multitask, else one) — shuffled.
   */
  private records(
    runs: readonly { teacher: Module<any, any, any>; outcome: TraceOutcome }[],
    lm: LanguageModelV1,
    predictorNames: readonly string[],
  ): ChatFinetuneRecord[] {
    const adapter = perLM(this.options.adapter, lm) ?? getSetting('adapter') ?? new ChatAdapter();
    const records: ChatFinetuneRecord[] = [];
    for (const { teacher, outcome } of runs) {
      if (!outcome.success) continue;
      const byName = new Map(teacher.namedPredictors());
      for (const step of outcome.steps) {
        if (!predictorNames.includes(step.predictor)) continue;
        const predictor = byName.get(step.predictor);
        if (!predictor) continue;
        const demos = this.options.excludeDemos ? [] : predictor.demos.map(plainDemo);
        records.push(adapter.formatFinetuneData(predictor.signature, demos, step.inputs, step.outputs));
      }
    }
    return new SeededRandom(this.options.seed).shuffle(records);
  }

  /** Projects the teacher calls: one run per teacher and training example (fine-tuning jobs are not LM calls). */
  override estimate(student: Module<any, any, any>, options: EstimateOptions): CompileEstimate {
    const perRun = callsPerRun(options.teacher ?? student, options);
    const calls = options.trainset.length * perRun;
    return makeEstimate(
      this.name,
      [{ step: 'run the teacher on the trainset with traces', minLmCalls: calls, maxLmCalls: calls }],
      [`${perRun} LM call(s) per teacher run`, 'one teacher; fine-tuning jobs are not counted as LM calls'],
    );
  }
}
