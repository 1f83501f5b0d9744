import { describe, expect, it } from 'vitest';
import { ConfigurationError, StateError } from '../errors.ts';
import type { RetrieveOptions, Retriever } from '../lm/interfaces.ts';
import type { Prediction } from '../primitives/prediction.ts';
import { context } from '../settings/settings.ts';
import { Module } from './module.ts';
import { Predict } from './predict.ts';
import { Retrieve } from './retrieve.ts';

class ScriptedRetriever implements Retriever {
  readonly queries: [string, RetrieveOptions | undefined][] = [];
  async retrieve(query: string, options?: RetrieveOptions) {
    this.queries.push([query, options]);
    return Array.from({ length: options?.k ?? 10 }, (_, i) => ({
      text: `${query} passage ${i + 1}`,
      score: 1 / (i + 1),
    }));
  }
}

describe('Retrieve', () => {
  it('returns the configured retriever’s passages as Prediction({ passages })', async () => {
    const rm = new ScriptedRetriever();
    const retrieve = new Retrieve();
    const pred = await context({ rm }, () => retrieve.call({ query: 'dspy' }));
    expect(pred.passages).toEqual(['dspy passage 1', 'dspy passage 2', 'dspy passage 3']);
    const fewer = await context({ rm }, () => retrieve.call({ query: 'q' }, { k: 1, filter: { lang: 'en' } }));
    expect(fewer.passages).toEqual(['q passage 1']);
    expect(rm.queries.map(([, options]) => options)).toEqual([{ k: 3 }, { k: 1, filter: { lang: 'en' } }]);
  });

  it('fails clearly without a retriever', async () => {
    await expect(new Retrieve().call({ query: 'q' })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(new Retrieve().call({ query: 'q' })).rejects.toThrow(/^No RM is loaded\./);
  });

  it('is a saved parameter with DSPy state { k }', () => {
    class RAG extends Module<{ question: string }, Prediction> {
      retrieve = new Retrieve({ k: 5 });
      generate = new Predict('context, question -> answer');
      async forward({ question }: { question: string }) {
        const { passages } = await this.retrieve.call({ query: question });
        return this.generate.call({ context: passages, question });
      }
    }
    const rag = new RAG();
    expect(rag.namedParameters().map(([name]) => name)).toEqual(['retrieve', 'generate']);
    expect(rag.namedPredictors().map(([name]) => name)).toEqual(['generate']);
    const state = rag.dumpState();
    expect(state.retrieve).toEqual({ k: 5 });
    const other = new RAG().loadState({ ...state, retrieve: { k: 2 } });
    expect(other.retrieve.k).toBe(2);
    expect(() => new RAG().loadState({ ...state, retrieve: { k: 'many' } })).toThrow(StateError);
    expect(new Retrieve().loadState({ k: 7 }).dumpState()).toEqual({ k: 7 });
  });
});
