import type { Example, LanguageModelV1 } from '@dspy-ts/core';
import type { CompileContext } from '../compile-context.ts';
import { callPromptModel, errorMessage } from './call-prompt-model.ts';
import { examplesRepr, stripPrefix } from './proposal-text.ts';
import {
  DatasetDescriptor,
  DatasetDescriptorWithPriorObservations,
  ObservationSummarizer,
} from './proposer-signatures.ts';

/** Observation calls made at most for one summary (the first batch included), as in DSPy. */
export const MAX_OBSERVATION_CALLS = 10;

/** The projected prompt-model calls of {@link createDatasetSummary}: `[fewest, most]`. */
export function datasetSummaryCalls(trainSize: number, viewDataBatchSize: number): [number, number] {
  const laterBatches =
    trainSize > viewDataBatchSize ? Math.ceil((trainSize - viewDataBatchSize) / viewDataBatchSize) : 0;
  return [2, 2 + Math.min(laterBatches, MAX_OBSERVATION_CALLS - 1)];
}

/**
 * DSPy's `create_dataset_summary`: the prompt model writes observations about the first `viewDataBatchSize`
 * training examples, then about each later batch given the observations so far (at most {@link
 * MAX_OBSERVATION_CALLS} observation calls; five `COMPLETE` answers end it early; a failing later call ends it
 * with the observations so far), and finally condenses them into a 2–3 sentence summary. Every call samples at
 * temperature 1 and is one checkpointed unit (`summary/…`).
 *
 * Unlike DSPy 3.3.1 — where a logging bug ends the loop after the first extra batch unless a log file is given —
 * every batch up to the limit is read.
 */
export async function createDatasetSummary(
  trainset: readonly Example[],
  viewDataBatchSize: number,
  promptModel: LanguageModelV1,
  ctx: CompileContext,
): Promise<string> {
  const config = { n: 1, temperature: 1 };
  const batch = Math.max(1, Math.floor(viewDataBatchSize));
  let observations = await ctx.unit<string>('summary/observe/0', async () => {
    const out = await callPromptModel(
      promptModel,
      DatasetDescriptor,
      { examples: examplesRepr(trainset.slice(0, Math.min(trainset.length, batch))) },
      ctx,
      config,
    );
    return String(out.observations ?? '');
  });
  let skips = 0;
  let calls = 0;
  try {
    for (let b = batch; b < trainset.length; b += batch) {
      calls++;
      if (calls >= MAX_OBSERVATION_CALLS) break;
      const prior = observations;
      const more = await ctx.unit<string>(`summary/observe/${b}`, async () => {
        const out = await callPromptModel(
          promptModel,
          DatasetDescriptorWithPriorObservations,
          {
            prior_observations: prior,
            examples: examplesRepr(trainset.slice(b, Math.min(trainset.length, b + batch))),
          },
          ctx,
          config,
        );
        return String(out.observations ?? '');
      });
      if (more.length >= 8 && more.slice(0, 8).toUpperCase() === 'COMPLETE') {
        skips++;
        if (skips >= 5) break;
        continue;
      }
      // DSPy concatenates without a separator.
      observations += more;
    }
  } catch (error) {
    ctx.throwIfAborted();
    console.warn(`Dataset summary: ${errorMessage(error)}. Using the observations so far for the summary.`);
  }
  const summary = await ctx.unit<string>('summary/summarize', async () => {
    const out = await callPromptModel(promptModel, ObservationSummarizer, { observations }, ctx, config);
    return String(out.summary ?? '');
  });
  return stripPrefix(summary);
}
