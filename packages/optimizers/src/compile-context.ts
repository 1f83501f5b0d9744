import { DspyError, type LanguageModelV1, type Module } from '@dspy-ts/core';
import type { Checkpoint } from './checkpoint.ts';
import type { StatsRecorder } from './compile-stats.ts';
import { journaled, journalModuleLMs, runInUnit } from './journaled-lm.ts';
import type { OptimizerPhase, ProgressReporter } from './progress.ts';

/**
 * The shared state of one running compile: its checkpoint, its abort signal, its progress reporter and its stats.
 * Optimizers split their work into **units** (one bootstrap attempt, one evaluated example, one proposal call),
 * each run through {@link CompileContext.unit}, so that a resumed compile replays finished units instead of
 * repeating their LM calls. Nested optimizers get a {@link CompileContext.child} with a key prefix.
 */
export class CompileContext {
  /** Units answered from the checkpoint in this run. */
  private replayed = { count: 0 };

  constructor(
    /** Where finished units are kept. */
    readonly checkpoint: Checkpoint,
    /** Stats of the current run. */
    readonly stats: StatsRecorder,
    /** Progress of the current run. */
    readonly progress: ProgressReporter,
    /** Cancels the compile. */
    readonly signal: AbortSignal | undefined,
    /** Prefix of this context's unit keys. */
    readonly prefix = '',
    /** True inside a nested optimizer: its loop does not drive the progress bar. */
    readonly nested = false,
  ) {}

  /** A context for a nested step whose unit keys start with `prefix` (appended to this one's). */
  child(prefix: string, nested = true): CompileContext {
    const ctx = new CompileContext(
      this.checkpoint,
      this.stats,
      this.progress,
      this.signal,
      `${this.prefix}${prefix}`,
      nested || this.nested,
    );
    ctx.replayed = this.replayed;
    return ctx;
  }

  /** Units answered from the checkpoint so far. */
  get replayedUnits(): number {
    return this.replayed.count;
  }

  /** Whether LM responses are journaled (only when the checkpoint is written to disk). */
  get journaling(): boolean {
    return this.checkpoint.path !== undefined;
  }

  /** Throws a `DspyError` with code `aborted` when the signal fired. */
  throwIfAborted(): void {
    if (this.signal?.aborted) {
      throw new DspyError(
        'aborted',
        'The compile was aborted. Progress is kept in the checkpoint, if one was given; run the same compile again to resume.',
        { cause: this.signal.reason },
      );
    }
  }

  /** True when the signal fired. */
  get aborted(): boolean {
    return this.signal?.aborted === true;
  }

  /**
   * Runs one unit of work, or returns its result from the checkpoint when an earlier run finished it. The result
   * must be JSON-serializable; it is stored (and the checkpoint written) before this returns. A unit that throws is
   * not stored, so a resumed compile runs it again, answering the LM requests it had already made from the journal.
   */
  async unit<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const full = `${this.prefix}${key}`;
    if (this.checkpoint.has(full)) {
      this.replayed.count++;
      return this.checkpoint.get<T>(full);
    }
    this.throwIfAborted();
    const value = this.journaling ? await runInUnit(full, this.checkpoint, fn) : await fn();
    await this.checkpoint.complete(full, value);
    return value;
  }

  /** `lm` wrapped so that its responses are journaled (unchanged when not journaling). */
  lm<T extends LanguageModelV1 | null | undefined>(lm: T): T {
    return this.journaling ? journaled(lm) : lm;
  }

  /** Wraps the LMs of a private copy's predictors so that their responses are journaled. */
  journalProgram(program: Module<any, any, any>): void {
    if (this.journaling) journalModuleLMs(program);
  }

  /** Starts this optimizer's main loop (a no-op for the progress bar inside a nested optimizer). */
  startLoop(total: number, unit: string): void {
    if (!this.nested) this.progress.start(total, unit);
  }

  /** Reports a finished unit of this optimizer's main loop. */
  advance(phase: OptimizerPhase, details: { bestScore?: number; label?: string } = {}): void {
    if (this.nested) this.progress.note(phase, details.label);
    else this.progress.advance(phase, details);
  }
}
