import { ChainOfThought } from '../modules/chain-of-thought.ts';
import { Module, type ModuleCallOptions } from '../modules/module.ts';
import { Prediction } from '../primitives/prediction.ts';
import { Signature } from '../signature/signature.ts';
import type { Metric } from './evaluate.ts';
import type { FieldSource } from './metrics.ts';

const RECALL_DESC = 'fraction (out of 1.0) of ground truth covered by the system response';
const PRECISION_DESC = 'fraction (out of 1.0) of system response covered by the ground truth';

/** DSPy's `SemanticRecallPrecision` signature (instructions and field descriptions verbatim). */
export const SEMANTIC_RECALL_PRECISION = Signature.fromFields(
  {
    question: { kind: 'input', type: 'str' },
    ground_truth: { kind: 'input', type: 'str' },
    system_response: { kind: 'input', type: 'str' },
    recall: { kind: 'output', type: 'float', desc: RECALL_DESC },
    precision: { kind: 'output', type: 'float', desc: PRECISION_DESC },
  },
  "Compare a system's response to the ground truth to compute its recall and precision.\n" +
    'If asked to reason, enumerate key ideas in each response, and whether they are present in the other response.',
);

/** DSPy's `DecompositionalSemanticRecallPrecision` signature (instructions and field descriptions verbatim). */
export const DECOMPOSITIONAL_SEMANTIC_RECALL_PRECISION = Signature.fromFields(
  {
    question: { kind: 'input', type: 'str' },
    ground_truth: { kind: 'input', type: 'str' },
    system_response: { kind: 'input', type: 'str' },
    ground_truth_key_ideas: { kind: 'output', type: 'str', desc: 'enumeration of key ideas in the ground truth' },
    system_response_key_ideas: { kind: 'output', type: 'str', desc: 'enumeration of key ideas in the system response' },
    discussion: {
      kind: 'output',
      type: 'str',
      desc: 'discussion of the overlap between ground truth and system response',
    },
    recall: { kind: 'output', type: 'float', desc: RECALL_DESC },
    precision: { kind: 'output', type: 'float', desc: PRECISION_DESC },
  },
  "Compare a system's response to the ground truth to compute recall and precision of key ideas.\n" +
    'You will first enumerate key ideas in each response, discuss their overlap, and then report recall and precision.',
);

/** DSPy's `f1_score` of the auto-evaluation judges: both inputs clamped to [0, 1]; 0 when both are 0. */
export function clampedF1(precision: number, recall: number): number {
  const p = Math.max(0, Math.min(1, precision));
  const r = Math.max(0, Math.min(1, recall));
  return p + r === 0 ? 0 : (2 * (p * r)) / (p + r);
}

/** Options of {@link SemanticF1}. */
export interface SemanticF1Options {
  /** Minimum F1 counted as a pass when a trace is given (bootstrapping). Default 0.66. */
  threshold?: number;
  /** Ask the judge to enumerate and discuss key ideas before scoring. Default false. */
  decompositional?: boolean;
}

/** Inputs of {@link SemanticF1.call}. */
export interface SemanticF1Inputs extends Record<string, unknown> {
  /** Holds `question` and the reference `response`. */
  example: FieldSource;
  /** Holds the system's `response`. */
  pred: FieldSource;
  /** The optimizer's trace; when set, the score becomes `score >= threshold`. */
  trace?: unknown;
}

function get(source: FieldSource, name: string): unknown {
  const getter = (source as { get?: unknown }).get;
  if (typeof getter === 'function') return (getter as (key: string) => unknown).call(source, name);
  return (source as Record<string, unknown>)[name];
}

/**
 * An LM judge of long-form answers (DSPy's `dspy.evaluate.SemanticF1`): a `ChainOfThought` over DSPy's
 * `SemanticRecallPrecision` signature estimates recall and precision of `pred.response` against
 * `example.response` for `example.question`; the result is `Prediction({ score: F1 })`, or
 * `Prediction({ score: F1 >= threshold })` when a trace is passed.
 *
 * @example
 * ```ts
 * const judge = new SemanticF1({ decompositional: true });
 * const evaluate = new Evaluate({ devset, metric: judge.asMetric() });
 * ```
 */
export class SemanticF1 extends Module<SemanticF1Inputs, Prediction<{ score: number | boolean }>> {
  /** Pass mark used when a trace is given. */
  threshold: number;
  /** The judge. */
  module: ChainOfThought;

  constructor(options: SemanticF1Options = {}) {
    super();
    this.threshold = options.threshold ?? 0.66;
    this.module = new ChainOfThought(
      options.decompositional ? DECOMPOSITIONAL_SEMANTIC_RECALL_PRECISION : SEMANTIC_RECALL_PRECISION,
    );
  }

  /** Scores `pred` against `example`. */
  override async forward(
    { example, pred, trace }: SemanticF1Inputs,
    options?: ModuleCallOptions,
  ): Promise<Prediction<{ score: number | boolean }>> {
    const scores = await this.module.call(
      {
        question: get(example, 'question'),
        ground_truth: get(example, 'response'),
        system_response: get(pred, 'response'),
      },
      options,
    );
    const score = clampedF1(Number(scores.get('precision')), Number(scores.get('recall')));
    return Prediction.from({ score: trace === undefined || trace === null ? score : score >= this.threshold });
  }

  /** This judge as a metric function for `Evaluate` and optimizers (named `SemanticF1` in result tables). */
  asMetric(): Metric {
    const metric = (example: FieldSource, pred: FieldSource, trace?: unknown) =>
      this.call(trace === undefined ? { example, pred } : { example, pred, trace });
    Object.defineProperty(metric, 'name', { value: 'SemanticF1' });
    return metric as Metric;
  }
}
