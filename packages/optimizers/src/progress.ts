import cliProgress from 'cli-progress';

/** What an optimizer is doing when it reports progress. */
export type OptimizerPhase = 'bootstrap' | 'evaluate' | 'propose' | 'candidate' | 'done';

/**
 * A structured progress event, sent to `onProgress` after every unit of work (and written as a JSON line when
 * progress display is requested on a stream that is not a terminal).
 */
export interface OptimizerProgressEvent {
  /** Always `optimizer.progress` (handy when events are mixed into other logs). */
  event: 'optimizer.progress';
  /** The optimizer reporting, e.g. `BootstrapFewShotWithRandomSearch`. */
  optimizer: string;
  /** What just happened. */
  phase: OptimizerPhase;
  /** Units of the optimizer's main loop done so far (candidates for searches, examples for bootstrapping). */
  completed: number;
  /** Units in the main loop. */
  total: number;
  /** What a unit is: `candidates`, `examples`, `evaluations`. */
  unit: string;
  /** Best score found so far, when the optimizer scores candidates. */
  bestScore?: number;
  /** LM requests that reached a model so far in this run. */
  lmCalls: number;
  /** Which candidate or step the event is about, e.g. `seed -1`. */
  label?: string;
}

/** A writable text stream, such as `process.stderr`. */
export interface ProgressStream {
  /** True when the stream is a terminal. */
  isTTY?: boolean;
  /** Writes text. */
  write(text: string): unknown;
}

/** How a compile shows its progress. */
export interface ProgressOptions {
  /** Receives every progress event. */
  onProgress?: (event: OptimizerProgressEvent) => void;
  /**
   * Show progress on `progressStream`: a `cli-progress` bar on a terminal, JSON lines otherwise. Default: only when
   * the stream is a terminal.
   */
  displayProgress?: boolean;
  /** Where progress is shown. Default `process.stderr`. */
  progressStream?: ProgressStream;
}

/**
 * Turns the optimizer's progress into `onProgress` events and, where asked for, a bar (terminal) or JSON lines.
 * Nested optimizers (a BootstrapFewShot inside a random search) share the reporter of the outer one: their events
 * reach `onProgress`, but only the outermost loop moves the bar.
 */
export class ProgressReporter {
  private bar: cliProgress.SingleBar | undefined;
  private readonly jsonStream: ProgressStream | undefined;
  private completed = 0;
  private total = 0;
  private unit = 'units';
  private bestScore: number | undefined;

  constructor(
    private readonly optimizer: string,
    private readonly options: ProgressOptions,
    private readonly lmCalls: () => number,
  ) {
    const stream = options.progressStream ?? process.stderr;
    const display = options.displayProgress ?? stream.isTTY === true;
    if (display && stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: stream as NodeJS.WritableStream,
          format: `${optimizer} |{bar}| {value}/{total} {unit} | best {best} | {calls} LM calls`,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
    } else if (display) {
      this.jsonStream = stream;
    }
  }

  /** Starts the main loop: `total` units of kind `unit`. */
  start(total: number, unit: string): void {
    this.total = total;
    this.unit = unit;
    this.completed = 0;
    this.bar?.start(total, 0, this.payload());
  }

  /** Reports one finished unit of the main loop. */
  advance(phase: OptimizerPhase, details: { bestScore?: number; label?: string } = {}): void {
    this.completed++;
    if (details.bestScore !== undefined) this.bestScore = details.bestScore;
    this.bar?.update(this.completed, this.payload());
    this.emit(phase, details.label);
  }

  /** Reports progress of a nested step without moving the main loop. */
  note(phase: OptimizerPhase, label?: string): void {
    this.bar?.update(this.completed, this.payload());
    this.emit(phase, label);
  }

  /** Ends the display. */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  private payload(): Record<string, unknown> {
    return {
      unit: this.unit,
      best: this.bestScore === undefined ? '-' : String(this.bestScore),
      calls: this.lmCalls(),
    };
  }

  private emit(phase: OptimizerPhase, label: string | undefined): void {
    const event: OptimizerProgressEvent = {
      event: 'optimizer.progress',
      optimizer: this.optimizer,
      phase,
      completed: this.completed,
      total: this.total,
      unit: this.unit,
      lmCalls: this.lmCalls(),
      ...(this.bestScore === undefined ? {} : { bestScore: this.bestScore }),
      ...(label === undefined ? {} : { label }),
    };
    this.options.onProgress?.(event);
    this.jsonStream?.write(`${JSON.stringify(event)}\n`);
  }
}
