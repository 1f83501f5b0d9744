/**
 * A pool of kernel workers sharing one wasm memory. Jobs are dispatched synchronously: the main thread writes
 * each worker's arguments into its control slot, wakes it with `Atomics.notify`, runs its own share of the work
 * on its own instance, then blocks with `Atomics.wait` until every worker has published completion. No message
 * passing is involved after start-up, so a dispatch costs a few microseconds of futex wake-up.
 *
 * @module
 */
import { KernelError } from '../kernel-error.ts';
import type { WorkerOp } from './control-block.ts';
import {
  ARGC,
  ARGS,
  DONE,
  MAX_ARGS,
  OP,
  OP_EXIT,
  SEQ,
  SLOT_BYTES,
  SLOT_INTS,
  STATUS,
  WORKER_OPS,
} from './control-block.ts';
import { KERNEL_WORKER_SOURCE, type KernelWorkerData } from './worker-source.ts';

type WorkerThreads = typeof import('node:worker_threads');
type KernelFunction = (...args: number[]) => unknown;

interface PoolWorker {
  worker: import('node:worker_threads').Worker;
  slot: Int32Array;
}

/** Bytes of control memory a pool of `workers` workers needs. */
export function controlRegionBytes(workers: number): number {
  return Math.max(1, workers) * SLOT_BYTES;
}

/**
 * Worker threads that run wasm kernel exports on a shared memory, driven from the main thread.
 */
export class ThreadPool {
  readonly #workers: PoolWorker[];
  readonly #local: Record<WorkerOp, KernelFunction>;
  #seq = 0;
  #disposed = false;

  private constructor(workers: PoolWorker[], local: Record<WorkerOp, KernelFunction>) {
    this.#workers = workers;
    this.#local = local;
  }

  /**
   * Starts `count` workers, each instantiating `module` on `memory` with its control slot at
   * `controlOffset + i·SLOT_BYTES`, and resolves once all are ready. `local` holds the main thread's own
   * instance exports, used for the share of each job that runs on the calling thread.
   */
  static async create(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    controlOffset: number,
    count: number,
    local: WebAssembly.Exports,
  ): Promise<ThreadPool> {
    const { Worker } = (await import('node:worker_threads')) as WorkerThreads;
    const localOps = Object.fromEntries(WORKER_OPS.map((name) => [name, local[name] as KernelFunction])) as Record<
      WorkerOp,
      KernelFunction
    >;
    const workers: PoolWorker[] = [];
    const started: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const slotOffset = controlOffset + i * SLOT_BYTES;
      const slot = new Int32Array(memory.buffer, slotOffset, SLOT_INTS);
      slot.fill(0);
      const workerData: KernelWorkerData = { module, memory, slotOffset };
      const worker = new Worker(KERNEL_WORKER_SOURCE, { eval: true, workerData, name: `dspy-ts-smt-kernels-${i}` });
      const entry: PoolWorker = { worker, slot };
      workers.push(entry);
      started.push(
        new Promise<void>((resolve, reject) => {
          worker.once('error', reject);
          worker.once('exit', (code) =>
            reject(new Error(`kernel worker ${i} exited with code ${code} during start-up`)),
          );
          worker.once('message', (message: { type: string }) => {
            if (message.type === 'ready') resolve();
          });
        }),
      );
    }
    try {
      await Promise.all(started);
    } catch (cause) {
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
      throw new KernelError('Could not start the wasm kernel worker threads.', { cause });
    }
    for (const { worker } of workers) {
      worker.removeAllListeners('exit');
      worker.removeAllListeners('error');
      // A crashed worker is reported by the next dispatch that it fails to complete; keep the process alive
      // only for real work, never for idle workers.
      worker.on('error', () => {});
      worker.unref();
    }
    return new ThreadPool(workers, localOps);
  }

  /** Number of worker threads (the calling thread comes on top). */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * Runs `op` once per argument list, synchronously: `argLists[0]` on the calling thread, `argLists[i]` on
   * worker i−1. Returns when all have finished; throws a `kernel` {@link KernelError} if any of them failed.
   */
  run(op: WorkerOp, argLists: readonly (readonly number[])[]): void {
    if (argLists.length === 0) return;
    this.overlap(op, argLists.length - 1, (post) => {
      for (let i = 1; i < argLists.length; i++) post(argLists[i]!);
      this.#local[op](...argLists[0]!);
    });
  }

  /**
   * Runs `body` on the calling thread with a `post` function that hands one job of `op` to the next idle worker
   * (at most `workers` of them) as soon as it is called, so the caller can prepare a worker's input, post it, and
   * go on preparing the next one (or its own share) while the workers compute. Returns once `body`
   * and every posted job have finished; throws a `kernel` {@link KernelError} if any of them failed.
   */
  overlap(op: WorkerOp, workers: number, body: (post: (args: readonly number[]) => void) => void): void {
    if (this.#disposed) throw new KernelError('The wasm backend was disposed; create a new one.');
    if (workers > this.#workers.length) {
      throw new KernelError(`Asked for ${workers} worker jobs but the pool has ${this.#workers.length} workers.`);
    }
    const opIndex = WORKER_OPS.indexOf(op);
    this.#seq = (this.#seq % 0x7fffffff) + 1;
    const seq = this.#seq;
    const busy: PoolWorker[] = [];
    const post = (args: readonly number[]): void => {
      if (busy.length >= workers) {
        throw new KernelError(`Posted more than the ${workers} worker jobs announced for ${op}.`);
      }
      if (args.length > MAX_ARGS) {
        throw new KernelError(`Job ${op} has ${args.length} arguments; at most ${MAX_ARGS} fit.`);
      }
      const entry = this.#workers[busy.length]!;
      const { slot } = entry;
      slot[OP] = opIndex;
      slot[ARGC] = args.length;
      for (let j = 0; j < args.length; j++) slot[ARGS + j] = args[j]!;
      Atomics.store(slot, SEQ, seq);
      Atomics.notify(slot, SEQ, 1);
      busy.push(entry);
    };
    let failure: unknown;
    try {
      body(post);
    } catch (error) {
      failure = error;
    }
    // Always wait for every posted worker, even after a local failure: the next call reuses the same memory.
    let failedWorkers = 0;
    for (const { slot } of busy) {
      for (let done = Atomics.load(slot, DONE); done !== seq; done = Atomics.load(slot, DONE)) {
        Atomics.wait(slot, DONE, done);
      }
      if (slot[STATUS] !== 0) failedWorkers++;
    }
    if (failure !== undefined) {
      if (failure instanceof KernelError) throw failure;
      throw new KernelError(`The wasm kernel ${op} failed on the calling thread.`, { cause: failure });
    }
    if (failedWorkers > 0) {
      throw new KernelError(
        `The wasm kernel ${op} trapped on ${failedWorkers} worker thread(s); this points to inconsistent shapes or a kernel bug.`,
      );
    }
  }

  /** Stops every worker. The pool must not be used afterwards. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const { slot } of this.#workers) {
      slot[OP] = OP_EXIT;
      this.#seq = (this.#seq % 0x7fffffff) + 1;
      Atomics.store(slot, SEQ, this.#seq);
      Atomics.notify(slot, SEQ, 1);
    }
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }
}
