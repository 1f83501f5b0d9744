import { ChainOfThought, configure, Module, type Prediction, Retrieve, Signature } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';
import { BM25Retriever } from '@dspy-ts/retrieval';

const passages = [
  'The Eiffel Tower was completed in 1889 for the Exposition Universelle in Paris.',
  'Gustave Eiffel’s company designed and built the tower.',
  'The Statue of Liberty was dedicated in 1886 in New York Harbor.',
];

configure({
  lm: lm('openai/gpt-4o-mini'),
  rm: new BM25Retriever(passages, { k: 2 }), // any Retriever works: vector stores, ColBERTv2, …
});

/** Retrieve, then answer from the passages: two steps, one program. */
class RAG extends Module<{ question: string }, Prediction<{ reasoning: string; answer: string }>> {
  retrieve = new Retrieve({ k: 2 });
  respond = new ChainOfThought(Signature.parse('context: list[str], question: str -> answer: str'));

  async forward({ question }: { question: string }) {
    const { passages: context } = await this.retrieve.call({ query: question });
    return this.respond.call({ context, question });
  }
}

const rag = new RAG();
const { answer } = await rag.call({ question: 'When was the Eiffel Tower completed?' });
console.log(answer);

// The learnable parts are found by walking the program, named as in DSPy:
console.log(rag.namedPredictors().map(([name]) => name)); // [ 'respond.predict' ]
