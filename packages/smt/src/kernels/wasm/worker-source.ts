/**
 * Source of the kernel worker, run with `new Worker(source, { eval: true })`. Keeping it as a string (rather than
 * a separate file) means it resolves identically from `src/` and from the bundled `dist/`. The worker
 * instantiates the shared kernel module on the shared memory, then loops: block on its slot's `SEQ` with
 * `Atomics.wait`, run the requested export with the integer arguments, publish `DONE`, notify.
 *
 * @module
 */
import { ARGC, ARGS, DONE, OP, OP_EXIT, SEQ, SLOT_INTS, STATUS, WORKER_OPS } from './control-block.ts';

/** Data a kernel worker receives at start-up. */
export interface KernelWorkerData {
  /** The compiled kernel module (structured-cloned, not recompiled). */
  module: WebAssembly.Module;
  /** The shared linear memory. */
  memory: WebAssembly.Memory;
  /** Byte offset of this worker's control slot. */
  slotOffset: number;
}

/** JavaScript (CommonJS) source of a kernel worker. */
export const KERNEL_WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, slotOffset } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ops = ${JSON.stringify(WORKER_OPS)}.map((name) => kernels[name]);
const slot = new Int32Array(memory.buffer, slotOffset, ${SLOT_INTS});
// The slot starts zeroed; reading SEQ after announcing readiness could miss a job posted in between.
let seen = 0;
parentPort.postMessage({ type: 'ready' });
for (;;) {
  Atomics.wait(slot, ${SEQ}, seen);
  const seq = Atomics.load(slot, ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  const op = slot[${OP}];
  if (op === ${OP_EXIT}) break;
  let status = 0;
  try {
    const args = Array.from(slot.subarray(${ARGS}, ${ARGS} + slot[${ARGC}]));
    ops[op](...args);
  } catch {
    status = 1;
  }
  Atomics.store(slot, ${STATUS}, status);
  Atomics.store(slot, ${DONE}, seq);
  Atomics.notify(slot, ${DONE});
}
`;
