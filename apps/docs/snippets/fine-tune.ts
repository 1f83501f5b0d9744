import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatFinetuneRecord } from '@dspy-ts/core';
import { chatRecordsToExamples, finetune, LocalLM, loadLlama2c, saveHuggingFace, saveLlama2c } from '@dspy-ts/smt';

// Karpathy's stories260K (huggingface.co/karpathy/tinyllamas, folder stories260K/), as in the local-models guide.
const dir = process.env.STORIES260K_DIR ?? 'stories260K';
const out = await mkdtemp(join(tmpdir(), 'fine-tune-'));

// #region data
const model = await loadLlama2c({
  checkpoint: join(dir, 'stories260K.bin'),
  tokenizer: join(dir, 'tok512.bin'),
  backend: 'auto',
});

// Chat records: the same shape BootstrapFinetune produces from a program's successful runs.
const qa: [story: string, question: string, answer: string][] = [
  ['Tim had a red ball. Tim gave the ball to Sue.', 'Who has the ball?', 'Sue'],
  ['Lily found a cat. The cat ran to Ben.', 'Who has the cat?', 'Ben'],
  ['Max saw a big dog. The dog liked Max.', 'Who saw the dog?', 'Max'],
  ['Sue made a cake. Sue gave it to Tom.', 'Who has the cake?', 'Tom'],
];
const records: ChatFinetuneRecord[] = qa.map(([story, question, answer]) => ({
  messages: [
    { role: 'user', content: `${story}\n${question}` },
    { role: 'assistant', content: answer },
  ],
}));

// Tokenized with LocalLM's chat template; only the answer and EOS count towards the loss.
const examples = chatRecordsToExamples(records, model.tokenizer);
// #endregion data

// #region smt
const smt = await finetune(model, examples, {
  method: 'smt',
  steps: 30, // SMT's warm-up steps are part of `steps`
  batchSize: 4,
  lr: 1e-2,
  smt: {
    warmupSteps: 3, // gradients summed over 3 steps pick the blocks
    warmup: 'gradient-only', // or 'full-ft' (the default): warm-up steps also update every weight
    blockSize: 8,
    score: 'mean-of-abs', // or 'abs-of-mean'
    groups: [{ matrices: ['wq', 'wk', 'wv'], fraction: 0.1 }], // one top-K over all Q, K, V blocks
  },
  onProgress: ({ phase, step, loss }) => step % 10 === 0 && console.log(phase, step, loss.toFixed(3)),
});

console.log(smt.smt?.selectedBlocks, smt.smt?.blocksPerMatrix.wv); // blocks chosen, and V's per layer
console.log(smt.trainableParameters, smt.memory.accounted.total); // scalars trained; bytes of state
// #endregion smt

// #region lora
const lora = await finetune(model, examples, {
  method: 'dora', // 'lora' without the magnitude vector
  steps: 4,
  lr: 1e-2,
  lora: { rank: 4, targets: ['wq', 'wv'] }, // alpha defaults to 2 · rank
});
// `weights` has the adapters merged in; `adapters` keeps them apart: wq and wv of each of the 5 layers.
console.log(Object.keys(lora.adapters ?? {}).length); // 10
// #endregion lora

// #region resume
const controller = new AbortController();
const checkpoint = { path: join(out, 'run.ckpt.safetensors'), everySteps: 2 };
try {
  await finetune(model, examples, {
    method: 'full',
    steps: 6,
    checkpoint,
    signal: controller.signal,
    onProgress: ({ step }) => step === 3 && controller.abort(), // stops before step 4, saving the state first
  });
} catch (error) {
  console.log((error as Error).message.split('.')[0]); // Fine-tuning was aborted before step 4 of 6
}
const resumed = await finetune(model, examples, { method: 'full', steps: 6, checkpoint, resume: true });
// Steps 4–6 ran now; the weights equal an uninterrupted run's bit for bit.
console.log(resumed.steps, resumed.losses.length); // 6 6
// #endregion resume

// #region export
await saveLlama2c(join(out, 'tuned.bin'), smt); // llama2.c format: run.c and loadLlama2c read it
// A Hugging Face directory: config.json, model.safetensors, tokenizer.json.
await saveHuggingFace(join(out, 'tuned-hf'), { ...smt, tokenizer: model.tokenizer });

// The result holds a model over the trained weights: serve it to any program.
const tuned = new LocalLM(smt.model!, { defaults: { maxTokens: 8, temperature: 0 } });
const reply = await tuned.generate({ messages: [{ role: 'user', content: `${qa[0]![0]}\n${qa[0]![1]}` }] });
// 'Sue', then noise: 4 records and 30 steps teach an answer, not a skill.
console.log(reply.choices[0]?.text);
// #endregion export

await model.dispose();
await rm(out, { recursive: true, force: true });
