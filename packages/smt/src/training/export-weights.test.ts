import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlamaModel } from '../model/llama-model.ts';
import { loadHuggingFace } from '../model/load-hugging-face.ts';
import { loadLlama2c } from '../model/load-llama2c.ts';
import { exportLlama2c, exportSafetensors, saveHuggingFace, saveLlama2c } from './export-weights.ts';
import { type FinetuneResult, finetune } from './finetune.ts';
import { chatRecordToExample } from './training-data.ts';

const modelDir = new URL('../../../../../shared/models/stories260K/', import.meta.url);
const tokenizerFile = new URL('tok512.bin', modelDir);

describe('export of trained weights', () => {
  let base: LlamaModel;
  let result: FinetuneResult;
  let dir: string;
  const probe = [1, 403, 407, 261, 378, 30, 302, 351];

  beforeAll(async () => {
    base = await loadLlama2c({ checkpoint: new URL('stories260K.bin', modelDir), tokenizer: tokenizerFile });
    dir = await mkdtemp(join(tmpdir(), 'smt-export-'));
    const example = chatRecordToExample(
      {
        messages: [
          { role: 'user', content: 'Who has the ball?' },
          { role: 'assistant', content: 'Sue' },
        ],
      },
      base.tokenizer,
    );
    // A few DoRA steps on V: the export must carry the merged adapters.
    result = await finetune(base, [example], {
      method: 'dora',
      steps: 2,
      lr: 1e-2,
      lora: { rank: 2, targets: ['wv'] },
    });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips through the llama2.c format with identical logits', async () => {
    expect(result.weights.layers[0]!.wv).not.toEqual(base.weights.layers[0]!.wv);
    const bytes = exportLlama2c(result);
    expect(bytes.length).toBe(1_056_540);
    const path = join(dir, 'tuned.bin');
    await saveLlama2c(path, result);
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);
    const reloaded = await loadLlama2c({ checkpoint: path, tokenizer: tokenizerFile });
    expect(reloaded.forward(probe, 0)).toEqual(result.model!.forward(probe, 0));
  });

  it('round-trips through a Hugging Face directory (safetensors, rotate-half q/k) with the same logits', async () => {
    const hfDir = join(dir, 'hf');
    await saveHuggingFace(hfDir, { ...result, tokenizer: base.tokenizer });
    const reloaded = await loadHuggingFace(hfDir);
    expect(reloaded.config.ropeLayout).toBe('rotate-half');
    expect(reloaded.tokenizer.encode('Who has the ball?')).toEqual(base.tokenizer.encode('Who has the ball?'));
    const expected = result.model!.forward(probe, 0);
    const logits = reloaded.forward(probe, 0);
    // The permuted q/k rows change only the order of float64 sums inside attention, so agreement is to rounding.
    let worst = 0;
    for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(new Uint8Array(await readFile(join(hfDir, 'model.safetensors')))).toEqual(exportSafetensors(result));
  });
});
