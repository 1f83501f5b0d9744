import { pythonFloatRepr } from '../adapters/python-text.ts';
import { pythonRound } from './python-number.ts';

/** Where an evaluation run stands; sent to `onProgress` after every finished example. */
export interface EvaluateProgress {
  /** Examples finished so far (failed ones included). */
  completed: number;
  /** Examples in the run. */
  total: number;
  /** Sum of the scores so far. */
  scoreSum: number;
  /** `round(100 * scoreSum / completed, 1)`, 0 before the first result. */
  percent: number;
  /** Examples that raised so far. */
  errors: number;
}

/** DSPy's progress description: `Average Metric: 12.00 / 20 (60.0%)`. */
export function progressDescription(progress: EvaluateProgress): string {
  const pct = progress.completed > 0 ? pythonFloatRepr(progress.percent) : '0';
  return `Average Metric: ${progress.scoreSum.toFixed(2)} / ${progress.completed} (${pct}%)`;
}

/** Builds the {@link EvaluateProgress} for the given counts. */
export function progressSnapshot(completed: number, total: number, scoreSum: number, errors: number): EvaluateProgress {
  const percent = completed > 0 ? pythonRound((100 * scoreSum) / completed, 1) : 0;
  return { completed, total, scoreSum, percent, errors };
}

/** Shows the progress of one evaluation run. */
export interface ProgressDisplay {
  /** Shows the latest state. */
  update(progress: EvaluateProgress): void;
  /** Ends the display. */
  stop(): void;
}

/** A writable text stream, such as `process.stderr`. */
export interface ProgressStream {
  /** True when the stream is a terminal. */
  isTTY?: boolean;
  /** Writes text. */
  write(text: string): unknown;
}

/**
 * The progress display for `stream`: a `cli-progress` bar labelled like DSPy's tqdm bar on a terminal; otherwise one
 * JSON line per update (`{"event":"evaluate.progress","completed":3,"total":20,...}`) so logs stay machine-readable.
 */
export async function createProgressDisplay(stream: ProgressStream, total: number): Promise<ProgressDisplay> {
  if (stream.isTTY) {
    const mod = (await import('cli-progress')) as typeof import('cli-progress') & {
      default?: typeof import('cli-progress');
    };
    const { SingleBar } = mod.default ?? mod;
    let description = progressDescription(progressSnapshot(0, total, 0, 0));
    const bar = new SingleBar({
      stream: stream as NodeJS.WritableStream,
      format: (options, params) => {
        const width = options.barsize ?? 40;
        const filled = Math.round(params.progress * width);
        const percent = Math.floor(params.progress * 100);
        return `${description}: ${String(percent).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(width - filled)}| ${params.value}/${params.total}`;
      },
      hideCursor: true,
      clearOnComplete: false,
    });
    bar.start(total, 0);
    return {
      update(progress) {
        description = progressDescription(progress);
        bar.update(progress.completed);
      },
      stop() {
        bar.stop();
      },
    };
  }
  return {
    update(progress) {
      stream.write(
        `${JSON.stringify({ event: 'evaluate.progress', ...progress, description: progressDescription(progress) })}\n`,
      );
    },
    stop() {},
  };
}
