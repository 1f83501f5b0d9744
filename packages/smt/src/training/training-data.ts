/**
 * Training examples (token ids plus a loss mask), conversion of chat records into them with the local chat
 * template, and the deterministic batch order of the trainer.
 *
 * @module
 */

import { type ChatFinetuneRecord, DspyError } from '@dspy-ts/core';
import { mulberry32 } from '../kernels/reference/random.ts';
import { renderChatTemplate } from '../local-lm.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { TrainingBatch } from './training-graph.ts';

/**
 * One tokenized training sequence. `lossMask[i]` = 1 means token `i` is a target whose prediction (from the
 * tokens before it) counts towards the loss; `lossMask[0]` is ignored since nothing predicts the first token.
 * Without a mask every token after the first counts.
 */
export interface TrainingExample {
  /** Token ids, BOS first as the model expects. At least two. */
  tokens: ArrayLike<number>;
  /** Same length as `tokens`: 1 where the token is a counted target, 0 elsewhere. */
  lossMask?: ArrayLike<number>;
}

/** Options of {@link chatRecordToExample}. */
export interface ChatExampleOptions {
  /**
   * Append the end-of-sequence token to the answer and count it (default true). `LocalLM` stops generating at
   * EOS, so a model trained this way answers with exactly the assistant text.
   */
  eos?: boolean;
}

/**
 * Tokenizes a chat record the way `LocalLM` will prompt the model: the messages before the final assistant turn
 * are rendered with {@link renderChatTemplate} (ending with the open `<|assistant|>` turn) and encoded with BOS;
 * the final assistant text follows, encoded as a continuation (no dummy-prefix space), then EOS. Only the answer
 * tokens (and EOS) are masked in.
 *
 * @example
 * ```ts
 * const example = chatRecordToExample(
 *   { messages: [{ role: 'user', content: 'Who has the ball?' }, { role: 'assistant', content: 'Sue' }] },
 *   model.tokenizer,
 * );
 * ```
 */
export function chatRecordToExample(
  record: ChatFinetuneRecord,
  tokenizer: Tokenizer,
  options: ChatExampleOptions = {},
): TrainingExample {
  const messages = record.messages;
  const last = messages[messages.length - 1];
  if (last?.role !== 'assistant') {
    throw new DspyError(
      'invalid_argument',
      `A chat fine-tuning record must end with an assistant message to learn; found ${last ? `a '${last.role}' message` : 'no messages'}.`,
    );
  }
  const prompt = tokenizer.encode(renderChatTemplate(messages.slice(0, -1), { addGenerationPrompt: true }), {
    bos: true,
  });
  const answer = last.content.length > 0 ? tokenizer.encode(last.content, { bos: false, dummyPrefix: false }) : [];
  if (options.eos ?? true) answer.push(tokenizer.eosId);
  if (answer.length === 0) {
    throw new DspyError('invalid_argument', 'The assistant answer is empty and eos is off: nothing to learn.');
  }
  return {
    tokens: [...prompt, ...answer],
    lossMask: [...new Array<number>(prompt.length).fill(0), ...new Array<number>(answer.length).fill(1)],
  };
}

/** {@link chatRecordToExample} over many records. */
export function chatRecordsToExamples(
  records: readonly ChatFinetuneRecord[],
  tokenizer: Tokenizer,
  options: ChatExampleOptions = {},
): TrainingExample[] {
  return records.map((record) => chatRecordToExample(record, tokenizer, options));
}

/** A validated example: inputs, next-token targets and the target mask, each `tokens.length − 1` long. */
export interface PreparedExample {
  inputs: Int32Array;
  targets: Int32Array;
  mask: Uint8Array;
}

/** Validates examples against the model and turns each into inputs, targets and mask. */
export function prepareExamples(
  examples: readonly TrainingExample[],
  vocabSize: number,
  seqLen: number,
): PreparedExample[] {
  if (examples.length === 0) throw new DspyError('invalid_argument', 'Fine-tuning needs at least one example.');
  return examples.map((example, index) => {
    const n = example.tokens.length;
    if (n < 2) {
      throw new DspyError('invalid_argument', `Example ${index} has ${n} tokens; at least 2 are needed.`);
    }
    if (n > seqLen + 1) {
      throw new DspyError(
        'invalid_argument',
        `Example ${index} has ${n} tokens; the model's context is ${seqLen}, so at most ${seqLen + 1} fit ` +
          '(the last token is only a target). Shorten the example or raise seqLen.',
      );
    }
    if (example.lossMask && example.lossMask.length !== n) {
      throw new DspyError(
        'invalid_argument',
        `Example ${index}: lossMask has ${example.lossMask.length} entries, tokens ${n}; they must match.`,
      );
    }
    for (let i = 0; i < n; i++) {
      const token = example.tokens[i]!;
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) {
        throw new DspyError(
          'invalid_argument',
          `Example ${index}, position ${i}: token id ${token} is outside the vocabulary [0, ${vocabSize}).`,
        );
      }
    }
    const inputs = Int32Array.from({ length: n - 1 }, (_, i) => example.tokens[i]!);
    const targets = Int32Array.from({ length: n - 1 }, (_, i) => example.tokens[i + 1]!);
    const mask = Uint8Array.from({ length: n - 1 }, (_, i) =>
      example.lossMask ? (example.lossMask[i + 1] ? 1 : 0) : 1,
    );
    return { inputs, targets, mask };
  });
}

/**
 * Indices of the examples of training step `step` (0-based): the examples are read in epochs, each a
 * permutation drawn from `mulberry32(seed + epoch)` (or in order when `shuffle` is false), and consecutive steps
 * take consecutive runs of `batchSize` from that stream, crossing epoch boundaries. A pure function of its
 * arguments, so a resumed run sees the same batches.
 */
export function batchIndices(count: number, batchSize: number, step: number, seed: number, shuffle = true): number[] {
  const out: number[] = [];
  let epochCached = -1;
  let order: number[] = [];
  for (let i = step * batchSize; i < (step + 1) * batchSize; i++) {
    const epoch = Math.floor(i / count);
    if (epoch !== epochCached) {
      order = epochOrder(count, seed, epoch, shuffle);
      epochCached = epoch;
    }
    out.push(order[i % count]!);
  }
  return out;
}

function epochOrder(count: number, seed: number, epoch: number, shuffle: boolean): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (!shuffle) return order;
  const rng = mulberry32((seed + Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Stacks prepared examples into one {@link TrainingBatch}. */
export function stackBatch(examples: readonly PreparedExample[]): TrainingBatch {
  const total = examples.reduce((s, e) => s + e.inputs.length, 0);
  const inputs = new Int32Array(total);
  const targets = new Int32Array(total);
  const mask = new Uint8Array(total);
  let offset = 0;
  for (const e of examples) {
    inputs.set(e.inputs, offset);
    targets.set(e.targets, offset);
    mask.set(e.mask, offset);
    offset += e.inputs.length;
  }
  return { inputs, targets, mask, lengths: examples.map((e) => e.inputs.length) };
}
