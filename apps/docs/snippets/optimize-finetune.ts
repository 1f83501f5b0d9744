import { join } from 'node:path';
import { answerExactMatch, Example, type FinetuneOptions, type Finetuner, Predict } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';
import { BetterTogether, BootstrapFewShot, BootstrapFinetune } from '@dspy-ts/optimizers';
import { chatRecordsToExamples, finetune, type LlamaModel, LocalLM, loadLlama2c } from '@dspy-ts/smt';

const dir = process.env.STORIES260K_DIR ?? 'stories260K';

// #region finetuner
/** A core Finetuner over a local model: chat records in, a LocalLM over the tuned weights out. */
class LocalFinetuner implements Finetuner {
  constructor(private readonly model: LlamaModel) {}

  async finetune(records: Parameters<Finetuner['finetune']>[0], options: FinetuneOptions = {}) {
    const result = await finetune(this.model, chatRecordsToExamples(records, this.model.tokenizer), {
      method: 'smt',
      steps: 8,
      lr: 1e-2,
      smt: { warmupSteps: 2, warmup: 'gradient-only' },
      ...options.trainKwargs, // e.g. { method: 'lora', steps: 100 } from BootstrapFinetune's trainKwargs
      onProgress: options.onProgress,
      signal: options.signal,
    });
    return new LocalLM(result.model!, { defaults: { maxTokens: 8, temperature: 0 } });
  }
}
// #endregion finetuner

// #region bootstrap-finetune
const model = await loadLlama2c({
  checkpoint: join(dir, 'stories260K.bin'),
  tokenizer: join(dir, 'tok512.bin'),
  backend: 'auto',
});
const trainset = [
  ['Tim gave the ball to Sue.', 'Sue'],
  ['The cat ran to Ben.', 'Ben'],
  ['Max found the dog.', 'Max'],
].map(([story, answer]) => new Example({ story, answer }).withInputs('story'));

// The student runs on the small local model; the teacher is the same program on a hosted LM.
const student = new Predict('story -> answer');
student.lm = new LocalLM(model);
const teacher = new Predict('story -> answer');
teacher.lm = lm('openai/gpt-4o-mini');

const optimizer = new BootstrapFinetune({ metric: answerExactMatch, finetuner: new LocalFinetuner(model) });
console.log(optimizer.estimate(student, { trainset, teacher }).maxLmCalls); // 3: one teacher run per example

// The teacher's successful runs become ChatAdapter-formatted records; the finetuner trains on them.
const tuned = await optimizer.compile(student, { trainset, teacher });
console.log(tuned.lm === student.lm, tuned.compileReport.stats.lmCalls); // false 3: a new LM, 3 teacher calls
// #endregion bootstrap-finetune

// #region better-together
// Prompt optimization and fine-tuning in turns, each program scored on a valset held out from the trainset.
const together = new BetterTogether({
  metric: answerExactMatch,
  p: new BootstrapFewShot({ metric: answerExactMatch, teacherSettings: { lm: teacher.lm } }),
  w: new BootstrapFinetune({ metric: answerExactMatch, finetuner: new LocalFinetuner(model) }),
});
const plan = together.estimate(student, { trainset, strategy: 'p -> w -> p', valsetRatio: 0.34 });
for (const { step, maxLmCalls } of plan.steps) console.log(step, maxLmCalls);
// #endregion better-together

await model.dispose();
