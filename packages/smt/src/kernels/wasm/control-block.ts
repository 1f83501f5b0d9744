/**
 * Layout of the control region that the main thread and the kernel workers share inside the wasm memory. Each
 * worker owns one slot of {@link SLOT_INTS} Int32 values (128 bytes, so two slots never share a cache line):
 * the main thread writes a job and bumps `SEQ`; the worker runs it and publishes the same sequence number in
 * `DONE`, with `STATUS` 0 on success.
 *
 * @module
 */

/** Int32 values per worker slot. */
export const SLOT_INTS = 32;
/** Bytes per worker slot. */
export const SLOT_BYTES = SLOT_INTS * 4;
/** Index of the job sequence number (written by the main thread, waited on by the worker). */
export const SEQ = 0;
/** Index of the last finished sequence number (written by the worker, waited on by the main thread). */
export const DONE = 1;
/** Index of the job status: 0 = success, 1 = the kernel threw. */
export const STATUS = 2;
/** Index of the operation: a position in {@link WORKER_OPS}, or {@link OP_EXIT}. */
export const OP = 3;
/** Index of the argument count. */
export const ARGC = 4;
/** Index of the first argument. */
export const ARGS = 5;
/** Largest number of integer arguments a job can carry. */
export const MAX_ARGS = SLOT_INTS - ARGS;
/** Operation code that makes a worker leave its loop. */
export const OP_EXIT = -1;
/** The wasm exports workers can run, by operation code. */
export const WORKER_OPS = ['gemm', 'blockSparseWeightGrad'] as const;
/** Name of a wasm export that workers can run. */
export type WorkerOp = (typeof WORKER_OPS)[number];
