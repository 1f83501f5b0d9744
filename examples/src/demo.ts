/**
 * The offline demo: compile a dspy-ts program into the weights of a tiny local model with Sparse Matrix Tuning.
 *
 * 1. A story question-answering program (`Predict('story, question -> answer')`) runs on stories260K, a
 *    260K-parameter LLaMA trained on TinyStories, through `LocalLM`. Out of the box it cannot do the task.
 * 2. `BootstrapFinetune` runs a teacher program on the training stories, keeps the runs the metric accepts, and
 *    hands them as chat records to `SMTFinetuner`, which trains them into the model's weights with SMT.
 *    The teacher's LM is scripted: it knows the answers of the generated training split and stands in for the
 *    large model a real pipeline would use. It never sees the development or test stories.
 * 3. The compiled program is evaluated again on a test split whose names never occur in training.
 *
 * Every number printed is computed by this run. Run it with `npm run demo` from the repository root (a few
 * minutes on two CPU cores). The model comes from `$DSPY_TS_MODELS_DIR` or `../shared/models/stories260K`.
 */
import type { ProgressEvent } from '@dspy-ts/core';
import {
  type Accuracy,
  DEMO_SPLITS,
  DEMO_TRAINING,
  type DemoResult,
  resolveModelDir,
  runSmtDemo,
} from './smt-demo/pipeline.ts';

const tty = Boolean(process.stdout.isTTY);
const started = performance.now();
let lastLine = 0;

function bar(fraction: number, width = 30): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** A progress bar on a terminal; otherwise one structured line per 10 % (and the last step). */
function progress(label: string, completed: number, total: number, detail = ''): void {
  if (tty) {
    process.stdout.write(
      `\r  ${label.padEnd(14)} ${bar(completed / total)} ${completed}/${total} ${detail}`.padEnd(100),
    );
    if (completed === total) process.stdout.write('\n');
    return;
  }
  const step = Math.max(1, Math.floor(total / 10));
  if (completed === total || completed % step === 0) {
    console.log(`  progress ${JSON.stringify({ phase: label, completed, total, ...(detail ? { detail } : {}) })}`);
  }
}

function onTrainingProgress(event: ProgressEvent): void {
  const loss = event.metrics?.loss;
  const now = performance.now();
  const detail = `loss ${loss?.toFixed(3)} lr ${event.metrics?.lr?.toExponential(1)}`;
  if (!tty || now - lastLine > 100 || event.completed === event.total) {
    lastLine = now;
    progress(`train ${event.phase}`, event.completed, event.total ?? event.completed, detail);
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const pct = (a: Accuracy) => `${a.score.toFixed(1)}% (${Math.round((a.score * a.total) / 100)}/${a.total})`;

function printResult(r: DemoResult): void {
  const { report } = r.lm;
  console.log('\n=== 4. Results ===');
  console.log('                         before      after');
  console.log(`  dev  (training names)  ${pct(r.before.dev).padEnd(11)} ${pct(r.after.dev)}`);
  console.log(`  test (held-out names)  ${pct(r.before.test).padEnd(11)} ${pct(r.after.test)}`);
  for (const [when, samples] of [
    ['before', r.before.test.samples],
    ['after', r.after.test.samples],
  ] as const) {
    console.log(`\n  Held-out test examples ${when} compiling:`);
    for (const s of samples)
      console.log(`    ${s.question}  gold: ${s.gold}  predicted: ${JSON.stringify(s.predicted)}`);
  }

  console.log(`\n=== 5. What SMT trained (${report.smt?.blockSize}×${report.smt?.blockSize} blocks) ===`);
  console.log(
    `  ${report.records} records, ${report.tokens} tokens (${report.targetTokens} answer tokens learned), ` +
      `${report.steps} steps in ${report.seconds.toFixed(1)} s on the ${report.backend} kernels; final loss ` +
      `${report.losses.at(-1)?.toFixed(3)}`,
  );
  console.log(
    `  warm-up: ${report.smt?.warmupSteps} ${report.smt?.warmup} steps (every weight moves, gradients summed for ` +
      'the block scores); then only the blocks below train',
  );
  console.log(
    `  ${report.smt?.selectedBlocks} blocks = ${report.trainableParameters} trainable parameters ` +
      `(${((100 * report.trainableParameters) / report.totalParameters).toFixed(1)}% of ${report.totalParameters})`,
  );
  console.log('  blocks per matrix type and layer:');
  console.log(`    matrix  ${Array.from({ length: 5 }, (_, l) => `L${l}`.padStart(4)).join('')}  total`);
  for (const [matrix, perLayer] of Object.entries(report.smt?.blocksPerMatrix ?? {})) {
    const total = perLayer.reduce((a, b) => a + b, 0);
    console.log(
      `    ${matrix.padEnd(6)}  ${perLayer.map((n) => String(n).padStart(4)).join('')}  ${String(total).padStart(5)}`,
    );
  }

  const m = r.memory;
  console.log(
    `\n=== 6. Training-state memory, SMT vs full fine-tuning (stories260K, ${m.batch.sequences} sequences of up to ${m.batch.maxTokens} tokens) ===`,
  );
  const rows: [string, keyof typeof m.smt][] = [
    ['weights', 'weights'],
    ['gradients', 'gradients'],
    ['Adam moments', 'optimizerState'],
    ['activations kept', 'activations'],
    ['total', 'total'],
  ];
  console.log(`  ${''.padEnd(18)} ${'SMT'.padStart(12)} ${'full FT'.padStart(12)}`);
  for (const [label, key] of rows) {
    console.log(`  ${label.padEnd(18)} ${kib(m.smt[key]).padStart(12)} ${kib(m.full[key]).padStart(12)}`);
  }
  const state = (b: typeof m.smt) => b.gradients + b.optimizerState;
  console.log(
    `  gradients + optimizer state: SMT ${kib(state(m.smt))} vs ${kib(state(m.full))} ` +
      `(${((100 * state(m.smt)) / state(m.full)).toFixed(1)}%); total ${((100 * m.smt.total) / m.full.total).toFixed(1)}%.`,
  );
  if (report.memory.warmup) {
    console.log(
      `  SMT's full-FT warm-up held ${kib(report.memory.warmup.total)} during its ${report.smt?.warmupSteps} steps ` +
        '(full gradients and Adam state, plus the gradient sums).',
    );
  }
  console.log(
    '  At 260K parameters the weights and activations dominate; the saving that scales with model size is the\n' +
      '  gradient and optimizer state, which SMT keeps only for its selected blocks.',
  );
}

async function main(): Promise<void> {
  const modelDir = resolveModelDir();
  console.log('dspy-ts offline demo: Sparse Matrix Tuning of a dspy-ts program into stories260K');
  console.log(`model: ${modelDir}`);
  console.log(
    `task: story question answering; ${DEMO_SPLITS.train} training, ${DEMO_SPLITS.dev} dev and ${DEMO_SPLITS.test} ` +
      'test questions; the test uses held-out names only\n',
  );
  console.log('=== 1. Evaluate the program on stories260K as it is ===');
  let printedPrompt = false;
  const result = await runSmtDemo({
    modelDir,
    onPromptTokens: (p) => {
      const room = p.context - p.chatAdapter;
      console.log(
        `Prompt size (chat template included): ChatAdapter ${p.chatAdapter} tokens, compact adapter ${p.compact} ` +
          `tokens; context ${p.context}.\n  ` +
          (room <= 0
            ? "ChatAdapter's prompt does not fit this model's context"
            : `ChatAdapter's system message and field markers would leave ${room} tokens for the answer and make every training sequence ${(p.chatAdapter / p.compact).toFixed(1)}× longer`) +
          ',\n  so the program uses a compact `Field: value` adapter (examples/src/smt-demo/compact-adapter.ts).',
      );
    },
    onEvaluateProgress: (label, completed, total) => {
      if (label.startsWith('after') && !printedPrompt) {
        printedPrompt = true;
        console.log('\n=== 3. Evaluate the compiled program ===');
      }
      progress(label, completed, total);
    },
    onTrainingProgress: (event) => {
      if (!printedPrompt && event.completed === 1 && event.phase === 'warmup') {
        console.log(
          '\n=== 2. Compile: BootstrapFinetune (scripted teacher) + SMTFinetuner ===\n' +
            '  The teacher program runs on a scripted LM that knows the training answers, standing in for a large\n' +
            '  model; its successful runs become chat records; SMT trains them into stories260K.\n' +
            `  ${DEMO_TRAINING.steps} steps, batch ${DEMO_TRAINING.batchSize}, lr ${DEMO_TRAINING.lr}`,
        );
      }
      onTrainingProgress(event);
    },
  });
  printResult(result);
  console.log(`\nDone in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}

try {
  await main();
} catch (error) {
  console.error(`\n${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
