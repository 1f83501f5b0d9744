import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { LMResponse } from '@dspy-ts/core';
import { addStats, type CompileStats, emptyStats } from './compile-stats.ts';
import { OptimizerError } from './optimizer-error.ts';

/** The `format` tag of checkpoint files. */
export const CHECKPOINT_FORMAT = 'dspy-ts/optimizer-checkpoint';

/** One LM response journaled while its unit of work was still running. */
export interface JournalEntry {
  /** Hash of the model id and the request. */
  hash: string;
  /** The response as received. */
  response: LMResponse;
}

/** The JSON layout of a checkpoint file. */
export interface CheckpointFile {
  /** Always {@link CHECKPOINT_FORMAT}. */
  format: typeof CHECKPOINT_FORMAT;
  /** Layout version. */
  version: 1;
  /** The optimizer that wrote the file. */
  optimizer: string;
  /** Fingerprints of the configuration and data, per part (`config`, `student`, `trainset`, …). */
  fingerprint: Record<string, string>;
  /** Results of finished units of work, by key. */
  units: Record<string, unknown>;
  /** LM responses of units that had not finished, by unit key. */
  journal: Record<string, JournalEntry[]>;
  /** What every run recorded in this file spent, summed. */
  spent: CompileStats;
  /** When the file was last written (ISO 8601). */
  updatedAt: string;
}

/**
 * The progress of one compile: finished units of work and, for units still running, the LM responses they already
 * received. With a `path` every change is written to disk atomically (a temporary file renamed over the old one);
 * without one it only lives in memory.
 */
export class Checkpoint {
  private readonly units = new Map<string, unknown>();
  private readonly journal = new Map<string, JournalEntry[]>();
  private readonly consumed = new Map<string, Set<number>>();
  private priorSpent: CompileStats = emptyStats();
  private currentStats: () => CompileStats = emptyStats;
  private writing: Promise<void> | undefined;
  private dirty = false;
  /** Units found in the file when it was opened. */
  readonly resumedUnits: number;

  private constructor(
    /** Where the checkpoint is written; `undefined` for an in-memory checkpoint. */
    readonly path: string | undefined,
    private readonly optimizer: string,
    private readonly fingerprint: Record<string, string>,
    file: CheckpointFile | undefined,
  ) {
    if (file) {
      for (const [key, value] of Object.entries(file.units)) this.units.set(key, value);
      for (const [key, entries] of Object.entries(file.journal)) this.journal.set(key, entries);
      this.priorSpent = file.spent;
    }
    this.resumedUnits = this.units.size;
  }

  /**
   * Opens (or starts) the checkpoint at `path` for a compile with the given fingerprint.
   *
   * @throws {OptimizerError} when the file was written by another optimizer, configuration or data set, or is not a
   *   checkpoint at all.
   */
  static async open(
    path: string | undefined,
    optimizer: string,
    fingerprint: Record<string, string>,
  ): Promise<Checkpoint> {
    if (path === undefined) return new Checkpoint(undefined, optimizer, fingerprint, undefined);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new OptimizerError(`Cannot read the checkpoint "${path}": ${(error as Error).message}`, { cause: error });
      }
    }
    if (text === undefined) return new Checkpoint(path, optimizer, fingerprint, undefined);
    let file: CheckpointFile;
    try {
      file = JSON.parse(text) as CheckpointFile;
    } catch (error) {
      throw new OptimizerError(
        `The checkpoint "${path}" is not valid JSON (${(error as Error).message}). Delete it to start over.`,
        { cause: error },
      );
    }
    if (file?.format !== CHECKPOINT_FORMAT || file.version !== 1) {
      throw new OptimizerError(
        `"${path}" is not a dspy-ts optimizer checkpoint (expected format "${CHECKPOINT_FORMAT}" version 1). ` +
          'Choose another checkpoint path.',
      );
    }
    if (file.optimizer !== optimizer) {
      throw new OptimizerError(
        `The checkpoint "${path}" was written by ${file.optimizer}, not ${optimizer}. Use a separate checkpoint ` +
          'file per optimizer, or delete this one to start over.',
      );
    }
    const changed = [...new Set([...Object.keys(fingerprint), ...Object.keys(file.fingerprint ?? {})])].filter(
      (part) => fingerprint[part] !== file.fingerprint?.[part],
    );
    if (changed.length > 0) {
      throw new OptimizerError(
        `The checkpoint "${path}" belongs to a different compile: its ${changed.join(', ')} differ from this ` +
          `compile's. Resuming would mix results of different configurations or data. Re-run with the original ` +
          'settings and data, or delete the checkpoint (or choose another path) to start over.',
      );
    }
    return new Checkpoint(path, optimizer, fingerprint, file);
  }

  /** Sets where the stats of the current run come from (added to the stats of earlier runs when written). */
  trackStats(current: () => CompileStats): void {
    this.currentStats = current;
  }

  /** What every run recorded here spent, including the current one. */
  totalSpent(): CompileStats {
    return addStats(this.priorSpent, this.currentStats());
  }

  /** True when the unit `key` finished in this or an earlier run. */
  has(key: string): boolean {
    return this.units.has(key);
  }

  /** The stored result of unit `key`. */
  get<T>(key: string): T {
    return this.units.get(key) as T;
  }

  /** Stores the result of unit `key`, drops its journal, and writes the checkpoint. */
  async complete(key: string, value: unknown): Promise<void> {
    this.units.set(key, value === undefined ? null : value);
    this.journal.delete(key);
    this.consumed.delete(key);
    await this.persist();
  }

  /**
   * A journaled response of unit `key` for a request with this hash that this run has not used yet, if any.
   * Each journaled response is handed out once per run.
   */
  takeReplay(key: string, hash: string): LMResponse | undefined {
    const entries = this.journal.get(key);
    if (!entries) return undefined;
    let used = this.consumed.get(key);
    if (!used) {
      used = new Set();
      this.consumed.set(key, used);
    }
    const index = entries.findIndex((entry, i) => entry.hash === hash && !used.has(i));
    if (index < 0) return undefined;
    used.add(index);
    return structuredClone((entries[index] as JournalEntry).response);
  }

  /** Journals a response received by the running unit `key`, and writes the checkpoint. */
  async journalResponse(key: string, hash: string, response: LMResponse): Promise<void> {
    const entries = this.journal.get(key) ?? [];
    const { ...plain } = response;
    entries.push({ hash, response: plain });
    this.journal.set(key, entries);
    const used = this.consumed.get(key) ?? new Set<number>();
    used.add(entries.length - 1);
    this.consumed.set(key, used);
    await this.persist();
  }

  /**
   * Writes the checkpoint if it has a path. Concurrent calls are coalesced: every caller returns once a write that
   * started after its change has finished.
   */
  async persist(): Promise<void> {
    if (this.path === undefined) return;
    this.dirty = true;
    while (this.dirty) {
      if (this.writing) {
        await this.writing.catch(() => {});
        continue;
      }
      this.dirty = false;
      const write = this.writeNow(this.path);
      this.writing = write.finally(() => {
        this.writing = undefined;
      });
      await write;
    }
  }

  private async writeNow(path: string): Promise<void> {
    const file: CheckpointFile = {
      format: CHECKPOINT_FORMAT,
      version: 1,
      optimizer: this.optimizer,
      fingerprint: this.fingerprint,
      units: Object.fromEntries(this.units),
      journal: Object.fromEntries(this.journal),
      spent: this.totalSpent(),
      updatedAt: new Date().toISOString(),
    };
    const text = `${JSON.stringify(file)}\n`;
    const temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temp, text, 'utf8');
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw new OptimizerError(`Failed to write the checkpoint "${path}": ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
