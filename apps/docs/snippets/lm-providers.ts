import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { configure, Predict } from '@dspy-ts/core';
import { embedder, fromAISDK, lm } from '@dspy-ts/lm-adapters';

// #region strings
// DSPy-style "provider/model" strings. The provider package (here @ai-sdk/openai) is imported
// on first use; if it is not installed, the call fails with the `npm install` line to run.
const gpt = lm('openai/gpt-4o-mini', { temperature: 0, maxTokens: 1000 });
const claude = lm('anthropic/claude-sonnet-4-5');
// #endregion strings

// #region any-model
// Any AI SDK model object works too, e.g. a local OpenAI-compatible server (vLLM, llama.cpp, Ollama):
const local = createOpenAICompatible({ name: 'local', baseURL: 'http://127.0.0.1:8000/v1' });
const qwen = fromAISDK(local.chatModel('qwen2.5-7b-instruct'), {
  pricing: { 'qwen2.5-7b-instruct': { inputPerMTok: 0, outputPerMTok: 0 } },
});
// …or as a string, by naming the provider instance:
const qwenByName = lm('local/qwen2.5-7b-instruct', { providers: { local } });
// #endregion any-model

// #region per-predictor
configure({ lm: gpt });
const draft = new Predict('topic -> outline: list[str]');
draft.lm = claude; // this predictor only
const summarize = new Predict('text -> summary');
const { summary } = await summarize.call({ text: '…' }, { lm: qwen }); // this call only
// #endregion per-predictor

// #region embeddings
const embed = embedder('openai/text-embedding-3-small'); // or embedder(openai.embedding('…'))
const [vector] = await embed.embed(['What is DSPy?']); // Float32Array
// #endregion embeddings

console.log(summary, qwenByName.modelId, vector?.length);
