import { join } from 'node:path';
import { Predict } from '@dspy-ts/core';
import { LocalLM, loadLlama2c } from '@dspy-ts/smt';

// Karpathy's stories260K (huggingface.co/karpathy/tinyllamas, folder stories260K/): a 260K-parameter
// LLaMA trained on children's stories — small enough to run anywhere, too small to follow instructions.
const dir = process.env.STORIES260K_DIR ?? 'stories260K';

// #region generate
const model = await loadLlama2c({
  checkpoint: join(dir, 'stories260K.bin'),
  tokenizer: join(dir, 'tok512.bin'),
  backend: 'auto', // WebAssembly SIMD when it loads, else the plain TypeScript kernels
});

const { text, finishReason } = model.generate('Once upon a time', { maxNewTokens: 40, temperature: 0 });
console.log(text, finishReason);
// #endregion generate

// #region local-lm
// LocalLM implements the same LanguageModelV1 interface as the AI SDK bridge, so any program runs on it.
const local = new LocalLM(model, { defaults: { maxTokens: 40, temperature: 0 } });
const response = await local.generate({ messages: [{ role: 'user', content: 'Tell me a story.' }] });
console.log(response.modelId, response.usage); // 'local/stories260K', { inputTokens, outputTokens }

const story = new Predict('prompt -> story');
story.lm = local;
// #endregion local-lm

await model.dispose();
console.log(story.signature.toString());
