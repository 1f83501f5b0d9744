import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DspyError } from '../errors.ts';
import { Predict } from '../modules/predict.ts';
import { Example } from '../primitives/example.ts';
import { Prediction } from '../primitives/prediction.ts';
import type { Callback } from '../settings/callbacks.ts';
import { configure } from '../settings/settings.ts';
import { ScriptedLM } from '../testing/scripted-lm.ts';
import { Evaluate, type EvaluateLogger, EXECUTION_CANCELLED_MESSAGE, type Metric } from './evaluate.ts';
import { answerExactMatch } from './metrics.ts';
import type { EvaluateProgress } from './progress.ts';

afterEach(() => configure({ lm: undefined, callbacks: undefined }));

function quietLogger(): EvaluateLogger & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, info: (m) => lines.push(m), error: (m) => errors.push(m) };
}

const devset = [1, 2, 3, 4, 5].map((n) => new Example({ n, answer: String(n * 2) }).withInputs('n'));

/** Doubles n, after a delay that makes later examples finish first. */
const doubler = async ({ n }: Record<string, unknown>) => {
  await new Promise((resolve) => setTimeout(resolve, (6 - (n as number)) * 2));
  return Prediction.from({ answer: String((n as number) * 2) });
};

describe('Evaluate', () => {
  it('scores with metric(example, prediction), keeps devset order and rounds like DSPy', async () => {
    const logger = quietLogger();
    const calls: number[] = [];
    const metric: Metric = (example, prediction, ...rest) => {
      calls.push(rest.length);
      return example.n !== 3 && prediction.answer === example.answer;
    };
    const result = await new Evaluate({ devset, metric, numThreads: 3, logger }).call(doubler);
    expect(result.score).toBe(80);
    expect(result.results.map(([ex, pred, score]) => [ex.n, pred.answer, score])).toEqual([
      [1, '2', true],
      [2, '4', true],
      [3, '6', false],
      [4, '8', true],
      [5, '10', true],
    ]);
    expect(calls).toEqual([0, 0, 0, 0, 0]);
    expect(logger.lines).toEqual(['Average Metric: 4 / 5 (80.0%)']);
    expect(String(result)).toBe('EvaluationResult(score=80.0, results=<list of 5 results>)');

    const thirds = await new Evaluate({
      devset: devset.slice(0, 3),
      metric: (ex) => (ex.n === 1 ? 1 : 0.5),
      logger,
    }).call(doubler);
    expect(thirds.score).toBe(66.67);
    expect(logger.lines.at(-1)).toBe('Average Metric: 2.0 / 3 (66.7%)');
  });

  it('never runs more than numThreads examples at once', async () => {
    let running = 0;
    let peak = 0;
    const program = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      return Prediction.from({});
    };
    const big = Array.from({ length: 12 }, (_, i) => new Example({ i }).withInputs('i'));
    await new Evaluate({ devset: big, metric: () => 1, numThreads: 3, logger: quietLogger() }).call(program);
    expect(peak).toBe(3);
  });

  it('turns failures into (empty prediction, failureScore) with DSPy log lines', async () => {
    const logger = quietLogger();
    const program = async ({ n }: Record<string, unknown>) => {
      if (n === 2) throw new Error('LM exploded');
      return Prediction.from({ answer: String((n as number) * 2) });
    };
    const result = await new Evaluate({ devset, metric: answerExactMatch, failureScore: 0.5, logger }).call(program);
    expect(result.score).toBe(90);
    const [, failedPrediction, failedScore] = result.results[1] as [Example, Prediction, number];
    expect(failedPrediction).toBeInstanceOf(Prediction);
    expect(failedPrediction.keys()).toEqual([]);
    expect(failedScore).toBe(0.5);
    expect(logger.errors).toEqual([
      "Error for Example({'n': 2, 'answer': '4'}) (input_keys={'n'}): LM exploded. Set `provideTraceback: true` for traceback.",
    ]);
  });

  it('cancels the run once maxErrors examples failed', async () => {
    const logger = quietLogger();
    const started: number[] = [];
    const program = async ({ n }: Record<string, unknown>) => {
      started.push(n as number);
      throw new Error(`bad ${n}`);
    };
    const run = new Evaluate({ devset, metric: () => 1, maxErrors: 2, numThreads: 1, logger }).call(program);
    await expect(run).rejects.toThrow(EXECUTION_CANCELLED_MESSAGE);
    await expect(run).rejects.toSatisfy((e) => DspyError.isInstance(e) && e.code === 'aborted');
    expect(started).toEqual([1, 2]);
    expect(logger.errors).toHaveLength(2);
  });

  it('stops when the signal fires, passing the signal to the program', async () => {
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const program = async (_inputs: Record<string, unknown>, options: { signal?: AbortSignal }) => {
      seen.push(options.signal);
      controller.abort(new Error('user stop'));
      return Prediction.from({});
    };
    const evaluate = new Evaluate({ devset, metric: () => 1, numThreads: 1, logger: quietLogger() });
    await expect(evaluate.call(program, { signal: controller.signal })).rejects.toThrow(EXECUTION_CANCELLED_MESSAGE);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.aborted).toBe(true);
  });

  it('runs modules with the example inputs and fires evaluate callbacks', async () => {
    const events: string[] = [];
    const callback: Callback = {
      onEvaluateStart: (_id, instance, inputs) =>
        events.push(
          `start ${instance.constructor.name} ${(inputs.devset as unknown[]).length} ${JSON.stringify(inputs.callbackMetadata)}`,
        ),
      onEvaluateEnd: (_id, outputs) => events.push(`end ${String(outputs)}`),
    };
    configure({
      callbacks: [callback],
      lm: new ScriptedLM(
        (request) => `[[ ## answer ## ]]\n${/n ## \]\]\n(\d+)/.exec(String(request.messages.at(-1)?.content))?.[1]}`,
      ),
    });
    const program = new Predict('n: int -> answer: str');
    const result = await new Evaluate({
      devset: devset.slice(0, 2),
      metric: answerExactMatch,
      logger: quietLogger(),
    }).call(program, { callbackMetadata: { run: 'a' } });
    expect(result.results.map(([, pred]) => pred.answer)).toEqual(['1', '2']);
    expect(result.score).toBe(0);
    expect(events).toEqual([
      'start Evaluate 2 {"run":"a"}',
      'end EvaluationResult(score=0.0, results=<list of 2 results>)',
    ]);
  });

  it('reports progress events and writes them as JSON lines off a terminal', async () => {
    const progress: EvaluateProgress[] = [];
    const written: string[] = [];
    await new Evaluate({
      devset: devset.slice(0, 2),
      metric: (ex) => ex.n === 1,
      numThreads: 1,
      displayProgress: true,
      progressStream: { isTTY: false, write: (text: string) => written.push(text) },
      onProgress: (p) => progress.push(p),
      logger: quietLogger(),
    }).call(doubler);
    expect(progress).toEqual([
      { completed: 1, total: 2, scoreSum: 1, percent: 100, errors: 0 },
      { completed: 2, total: 2, scoreSum: 1, percent: 50, errors: 0 },
    ]);
    expect(written.map((line) => JSON.parse(line).description)).toEqual([
      'Average Metric: 1.00 / 1 (100.0%)',
      'Average Metric: 1.00 / 2 (50.0%)',
    ]);
  });

  it('draws a cli-progress bar with DSPy text on a terminal', async () => {
    let output = '';
    const stream = {
      isTTY: true,
      columns: 120,
      write: (text: string) => {
        output += text;
        return true;
      },
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
      on: () => stream,
      removeListener: () => stream,
    };
    await new Evaluate({
      devset,
      metric: () => 0.6,
      displayProgress: true,
      progressStream: stream,
      logger: quietLogger(),
    }).call(doubler);
    expect(output).toContain('Average Metric: 3.00 / 5 (60.0%)');
    expect(output).toContain('5/5');
  });

  it('saves CSV and JSON rows and prints a table with merged columns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dspy-evaluate-'));
    try {
      const examples = [
        new Example({ question: 'Say "hi", then\nwave', answer: 'hi' }).withInputs('question'),
        new Example({ question: 'long', answer: 'x' }).withInputs('question'),
      ];
      const program = async ({ question }: Record<string, unknown>) =>
        Prediction.from({
          answer: question === 'long' ? Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ') : 'hi',
          note: 1,
        });
      let table = '';
      await new Evaluate({
        devset: examples,
        metric: answerExactMatch,
        displayTable: 1,
        tableStream: { write: (t: string) => (table += t) },
        saveAsCsv: join(dir, 'out.csv'),
        saveAsJson: join(dir, 'out.json'),
        logger: quietLogger(),
      }).call(program);
      const csv = await readFile(join(dir, 'out.csv'), 'utf8');
      expect(csv.split('\r\n')[0]).toBe('question,example_answer,pred_answer,note,answerExactMatch');
      expect(csv).toContain('"Say ""hi"", then\nwave",hi,hi,1,true\r\n');
      const json = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8'));
      expect(json[1]).toMatchObject({ question: 'long', example_answer: 'x', answerExactMatch: false });
      expect(table).toContain('example_answer');
      expect(table).toContain('✔️ [True]');
      expect(table).toContain('... 1 more rows not displayed ...');
      expect(table).not.toContain('long');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects removed options and calls without a metric', async () => {
    expect(() => new Evaluate({ devset, returnOutputs: true } as never)).toThrow(/no longer supported/);
    await expect(new Evaluate({ devset }).call(doubler)).rejects.toThrow(/needs a metric/);
    const spy = vi.fn();
    await expect(new Evaluate({ devset: [], metric: spy }).call(doubler)).rejects.toThrow(/non-empty devset/);
  });
});
