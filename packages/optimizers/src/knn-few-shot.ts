import type { Embedder, Example, Module, ModuleCallOptions } from '@dspy-ts/core';
import { BootstrapFewShot, type BootstrapFewShotOptions } from './bootstrap-few-shot.ts';
import { KNN } from './knn.ts';

/** Compile options of {@link KNNFewShot}. */
export interface KNNFewShotCompileOptions {
  /** The program whose runs become demonstrations; defaults to the student. */
  teacher?: Module<any, any, any>;
}

/**
 * Few-shot demos chosen per call (DSPy's `KNNFewShot`): the compiled program finds the `k` training examples nearest
 * to its inputs (through an {@link Embedder}) and runs BootstrapFewShot on just those before answering. Compiling
 * makes no LM calls; every call of the result does its own bootstrapping (and counts its own calls).
 *
 * @example
 * ```ts
 * const knn = new KNNFewShot(3, trainset, embedder, { metric, maxBootstrappedDemos: 2 });
 * const program = knn.compile(new ChainOfThought('question -> answer'));
 * await program.call({ question: 'Who wrote Hamlet?' });
 * ```
 */
export class KNNFewShot {
  /** The optimizer's name. */
  readonly name = 'KNNFewShot';
  /** Finds the nearest training examples. */
  readonly knn: KNN;

  constructor(
    /** Neighbours per call. */
    readonly k: number,
    /** The examples searched. */
    readonly trainset: readonly Example[],
    /** Turns texts into vectors. */
    readonly vectorizer: Embedder,
    /** Options of the per-call BootstrapFewShot. */
    readonly bootstrapOptions: BootstrapFewShotOptions = {},
  ) {
    this.knn = new KNN(k, trainset, vectorizer);
  }

  /** A reset copy of `student` whose `forward` bootstraps on the nearest examples first. The student is not changed. */
  compile<T extends Module<any, any, any>>(student: T, options: KNNFewShotCompileOptions = {}): T {
    const copy = student.resetCopy();
    const knn = this.knn;
    const bootstrapOptions = this.bootstrapOptions;
    const forward = async (inputs: Record<string, unknown>, callOptions?: ModuleCallOptions): Promise<unknown> => {
      const neighbours = await knn.call(inputs, callOptions?.signal ? { signal: callOptions.signal } : {});
      const compiled = await new BootstrapFewShot(bootstrapOptions).compile(student, {
        trainset: neighbours,
        ...(options.teacher ? { teacher: options.teacher } : {}),
        ...(callOptions?.signal ? { signal: callOptions.signal } : {}),
      });
      return compiled.call(inputs, callOptions);
    };
    // An own, non-enumerable `forward` replaces the class's for this copy only (DSPy binds a new method the same way).
    Object.defineProperty(copy, 'forward', { value: forward, enumerable: false, writable: true, configurable: true });
    return copy;
  }
}
