/**
 * The offline SMT demo as a function: a dspy-ts story-QA program on stories260K is evaluated, compiled with
 * `BootstrapFinetune` + `SMTFinetuner` (Sparse Matrix Tuning into the model's weights), and evaluated again on
 * a test split whose names never occur in training. `demo.ts` runs it at full size and prints the results; the
 * test runs a reduced version.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ChatAdapter,
  configure,
  Evaluate,
  type Example,
  exactMatch,
  type LMRequest,
  Module,
  type ModuleCallOptions,
  Predict,
  type Prediction,
  type ProgressEvent,
  Signature,
} from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { BootstrapFinetune } from '@dspy-ts/optimizers';
import {
  chatRecordsToExamples,
  type FinetunedLocalLM,
  finetune,
  type LlamaModel,
  LocalLM,
  loadLlama2c,
  renderChatTemplate,
  SMTFinetuner,
  type SMTFinetunerOptions,
  type TrainingExample,
  type TrainingStateBytes,
} from '@dspy-ts/smt';
import { CompactAdapter } from './compact-adapter.ts';
import { makeSplits, type SplitOptions } from './story-qa.ts';

/** The signature of the program's one predictor. */
export const STORY_QA = Signature.parse(
  'story: str, question: str -> answer: str',
  'Answer the question about the story with one name.',
);

/** The program: one `Predict` over the story and the question. */
export class StoryQAProgram extends Module<{ story: string; question: string }, Prediction> {
  /** The predictor (its LM is the one fine-tuned). */
  answer = new Predict(STORY_QA);

  override forward(inputs: { story: string; question: string }, options?: ModuleCallOptions): Promise<Prediction> {
    return this.answer.call(inputs, options);
  }
}

/** Exact match of the predicted name (case and punctuation normalised, as DSPy's `answer_exact_match`). */
export function nameMatch(example: Example, prediction: Prediction): boolean {
  return exactMatch(String(prediction.answer ?? ''), String(example.answer));
}

/**
 * The teacher's LM. It stands in for a large model that can already do the task: it reads the story and question
 * out of the compact prompt and answers from the generated labels of the training split (it knows nothing about
 * the development or test stories, and answers "I don't know" there).
 */
export function scriptedTeacherLM(trainset: readonly Example[]): ScriptedLM {
  const answers = new Map(trainset.map((e) => [`${e.story}\n${e.question}`, String(e.answer)]));
  return new ScriptedLM(
    (request: LMRequest) => {
      const last = request.messages.at(-1);
      const text = typeof last?.content === 'string' ? last.content : '';
      const story = /^Story: (.*)$/m.exec(text)?.[1] ?? '';
      const question = /^Question: (.*)$/m.exec(text)?.[1] ?? '';
      return `Answer: ${answers.get(`${story}\n${question}`) ?? "I don't know"}\n`;
    },
    { modelId: 'scripted-teacher' },
  );
}

/** Where the stories260K files are: `$DSPY_TS_MODELS_DIR/stories260K` (or that directory itself), else `../shared/models/stories260K` next to the repository. */
export function resolveModelDir(env: NodeJS.ProcessEnv = process.env): string {
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  const base = env.DSPY_TS_MODELS_DIR ?? join(repoRoot, '..', 'shared', 'models');
  return existsSync(join(base, 'stories260K.bin')) ? base : join(base, 'stories260K');
}

/** Loads stories260K, or explains where to get it. */
export async function loadStories260K(dir: string): Promise<LlamaModel> {
  const missing = ['stories260K.bin', 'tok512.bin'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new Error(
      `The demo model is missing: ${missing.map((f) => join(dir, f)).join(', ')} not found.\n` +
        'Download stories260K.bin and tok512.bin from the public Hugging Face repository karpathy/tinyllamas ' +
        '(folder stories260K/), e.g.\n' +
        '  https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/stories260K.bin\n' +
        '  https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/tok512.bin\n' +
        `into ${dir}, or set DSPY_TS_MODELS_DIR to the directory that holds them (or their stories260K/ folder).`,
    );
  }
  return loadLlama2c({
    checkpoint: join(dir, 'stories260K.bin'),
    tokenizer: join(dir, 'tok512.bin'),
    backend: 'auto',
  });
}

/** Sizes and training settings of one demo run. */
export interface DemoOptions {
  /** Directory with stories260K.bin and tok512.bin (default {@link resolveModelDir}). */
  modelDir?: string;
  /** Split sizes. */
  splits?: SplitOptions;
  /** Training options of the finetuner (defaults: the settings the demo was tuned with). */
  training?: SMTFinetunerOptions;
  /** Receives every training step. */
  onTrainingProgress?: (event: ProgressEvent) => void;
  /** Receives evaluation progress: phase label, completed, total. */
  onEvaluateProgress?: (label: string, completed: number, total: number) => void;
  /** Receives the prompt sizes as soon as they are measured (before the first evaluation). */
  onPromptTokens?: (tokens: DemoResult['promptTokens']) => void;
  /** Cancels the run. */
  signal?: AbortSignal;
}

/**
 * Training settings of the demo (chosen on the development split): 600 steps of 8 sequences; SMT's first 150
 * steps are the authors' warm-up (full fine-tuning steps with a learning rate ramping to 3e-3, summing gradients
 * for the block scores), then only the selected blocks train at 1e-2, decaying linearly: 25 % of the 8×8 blocks
 * of Q, K, V and O (one budget) and 10 % of the blocks of the MLP matrices (a second budget).
 */
export const DEMO_TRAINING: SMTFinetunerOptions = {
  method: 'smt',
  steps: 1000,
  batchSize: 8,
  lr: 1e-2,
  seed: 0,
  smt: {
    blockSize: 8,
    warmup: 'full-ft',
    warmupSteps: 200,
    warmupLr: 3e-3,
    groups: [
      { matrices: ['wq', 'wk', 'wv', 'wo'], fraction: 0.25 },
      { matrices: ['w1', 'w2', 'w3'], fraction: 0.1 },
    ],
  },
};

/** The demo's default split sizes. */
export const DEMO_SPLITS: SplitOptions = { train: 800, dev: 40, test: 80, syntheticNames: 1500 };

/** Accuracy of one evaluation. */
export interface Accuracy {
  /** Percentage, two decimals. */
  score: number;
  /** Examples evaluated. */
  total: number;
  /** A few (gold, predicted) pairs, for display. */
  samples: { question: string; gold: string; predicted: string }[];
}

/** Training-state bytes of SMT and full fine-tuning for the same model and batch. */
export interface MemoryComparison {
  /** Sequences and their longest length in tokens. */
  batch: { sequences: number; maxTokens: number };
  /** SMT's sparse phase. */
  smt: TrainingStateBytes;
  /** Full fine-tuning. */
  full: TrainingStateBytes;
}

/** Everything the demo measured. */
export interface DemoResult {
  /** Prompt length in tokens (chat template included) with ChatAdapter and with the compact adapter. */
  promptTokens: { chatAdapter: number; compact: number; context: number };
  /** Split sizes. */
  sizes: { train: number; dev: number; test: number };
  /** Before compiling. */
  before: { dev: Accuracy; test: Accuracy };
  /** After compiling. */
  after: { dev: Accuracy; test: Accuracy };
  /** The fine-tuned LM (its `report` holds the SMT selection and memory report). */
  lm: FinetunedLocalLM;
  /** One-step accounting of SMT against full fine-tuning on the same batch. */
  memory: MemoryComparison;
  /** The compiled program. */
  program: StoryQAProgram;
  /** Seconds spent compiling (teacher runs and training). */
  compileSeconds: number;
}

async function accuracy(
  program: StoryQAProgram,
  devset: readonly Example[],
  label: string,
  options: DemoOptions,
): Promise<Accuracy> {
  const evaluate = new Evaluate({
    devset,
    metric: nameMatch,
    numThreads: 1,
    maxErrors: devset.length + 1,
    logger: { info() {}, error() {} },
    onProgress: (p) => options.onEvaluateProgress?.(label, p.completed, p.total),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const result = await evaluate.call(program);
  return {
    score: result.score,
    total: devset.length,
    samples: result.results.slice(0, 3).map(([example, prediction]) => ({
      question: `${example.story} ${example.question}`,
      gold: String(example.answer),
      predicted: String((prediction as Prediction).answer ?? ''),
    })),
  };
}

/**
 * Accounting probe: one step of SMT (on the blocks the run selected) and one of full fine-tuning, on the same
 * batch of the longest training sequences, at learning rate 0 (nothing is kept). Both come from the engine's
 * own accounting of weights, gradients, Adam moments and saved activations.
 */
async function compareMemory(
  model: LlamaModel,
  examples: TrainingExample[],
  lm: FinetunedLocalLM,
  batchSize: number,
): Promise<MemoryComparison> {
  const longest = [...examples].sort((a, b) => b.tokens.length - a.tokens.length).slice(0, batchSize);
  const common = { steps: 1, batchSize: longest.length, lr: 0, shuffle: false, backend: model.backend };
  const smt = await finetune(model, longest, {
    ...common,
    method: 'smt',
    smt: {
      blockSize: lm.report.smt?.blockSize ?? 8,
      selection: lm.report.smt?.selection ?? [],
    },
  });
  const full = await finetune(model, longest, { ...common, method: 'full' });
  return {
    batch: { sequences: longest.length, maxTokens: longest[0]?.tokens.length ?? 0 },
    smt: smt.memory.accounted,
    full: full.memory.accounted,
  };
}

/** Runs the demo: evaluate, compile with BootstrapFinetune + SMTFinetuner, evaluate again. */
export async function runSmtDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const model = await loadStories260K(options.modelDir ?? resolveModelDir());
  const splitOptions = options.splits ?? DEMO_SPLITS;
  const { train, dev, test } = makeSplits(splitOptions);

  // The prompt must fit the 512-token context: measure ChatAdapter's against the compact adapter's.
  const adapter = new CompactAdapter();
  const sample = train[0] as Example;
  const inputs = sample.inputs().toDict() as Record<string, unknown>;
  const promptTokens = (messages: { role: 'system' | 'user' | 'assistant'; content: unknown }[]) =>
    model.tokenizer.encode(renderChatTemplate(messages as never), { bos: true }).length;
  const chatTokens = promptTokens(new ChatAdapter().format(STORY_QA, [], inputs));
  const compactTokens = promptTokens(adapter.format(STORY_QA, [], inputs));
  const measured = { chatAdapter: chatTokens, compact: compactTokens, context: model.config.seqLen };
  options.onPromptTokens?.(measured);
  configure({ adapter });

  // The student: the program on the local model (greedy; an answer is one line).
  const base = new LocalLM(model, { defaults: { maxTokens: 16, stop: ['\n'], temperature: 0 } });
  const student = new StoryQAProgram();
  student.setLm(base);
  const before = {
    dev: await accuracy(student, dev, 'before: dev', options),
    test: await accuracy(student, test, 'before: test', options),
  };

  // The teacher: the same program on a scripted LM that knows the training answers (a large model's stand-in).
  const teacher = new StoryQAProgram();
  teacher.setLm(scriptedTeacherLM(train));

  const finetuner = new SMTFinetuner({ ...DEMO_TRAINING, ...options.training });
  const optimizer = new BootstrapFinetune({ metric: nameMatch, finetuner, adapter, excludeDemos: true });
  const started = performance.now();
  const info = console.info;
  console.info = () => {}; // BootstrapFinetune announces its record count; the demo prints its own summary.
  let program: StoryQAProgram;
  try {
    program = await optimizer.compile(student, {
      trainset: train,
      teacher,
      ...(options.onTrainingProgress ? { onFinetuneProgress: options.onTrainingProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } finally {
    console.info = info;
  }
  const compileSeconds = (performance.now() - started) / 1000;
  const lm = program.answer.lm as FinetunedLocalLM;

  const after = {
    dev: await accuracy(program, dev, 'after: dev', options),
    test: await accuracy(program, test, 'after: test', options),
  };

  const records = train.map((e) =>
    adapter.formatFinetuneData(STORY_QA, [], e.inputs().toDict() as Record<string, unknown>, { answer: e.answer }),
  );
  const memory = await compareMemory(
    model,
    chatRecordsToExamples(records, model.tokenizer),
    lm,
    finetuner.options.batchSize ?? 8,
  );
  return {
    promptTokens: measured,
    sizes: { train: train.length, dev: dev.length, test: test.length },
    before,
    after,
    lm,
    memory,
    program,
    compileSeconds,
  };
}
