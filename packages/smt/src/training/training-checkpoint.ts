/**
 * Training checkpoints: every tensor of the trainer's state plus a JSON description, stored in one safetensors
 * file (`__metadata__.dspy_ts_training` holds the JSON) and written atomically (a temporary file in the same
 * directory, then a rename), so an interrupted write never leaves a truncated checkpoint behind.
 *
 * @module
 */

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DspyError } from '@dspy-ts/core';
import { parseSafetensors, serializeSafetensors } from '../model/safetensors.ts';

/** Format tag stored in every checkpoint. */
export const TRAINING_CHECKPOINT_FORMAT = 'dspy-ts-training-checkpoint-v1';

const METADATA_KEY = 'dspy_ts_training';

/** The contents of a training checkpoint. */
export interface TrainingCheckpoint {
  /** JSON-serialisable description (step, phase, selection, fingerprint…). */
  meta: Record<string, unknown>;
  /** Named tensors. */
  tensors: Map<string, Float32Array>;
}

/** Writes `bytes` to `path` atomically: a sibling temporary file first, then a rename over the target. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Serialises and atomically writes a checkpoint. */
export async function saveTrainingCheckpoint(path: string, checkpoint: TrainingCheckpoint): Promise<void> {
  const tensors = Object.fromEntries(
    [...checkpoint.tensors].map(([name, data]) => [name, { shape: [data.length], data }]),
  );
  const meta = JSON.stringify({ format: TRAINING_CHECKPOINT_FORMAT, ...checkpoint.meta });
  await writeFileAtomic(path, serializeSafetensors(tensors, { [METADATA_KEY]: meta }));
}

/** Reads a checkpoint written by {@link saveTrainingCheckpoint}; `undefined` when the file does not exist. */
export async function loadTrainingCheckpoint(path: string): Promise<TrainingCheckpoint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DspyError('state', `Cannot read the training checkpoint ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const json = readMetadata(bytes, path);
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(json) as Record<string, unknown>;
  } catch (cause) {
    throw new DspyError('state', `${path}: the training state description is not valid JSON.`, { cause });
  }
  if (meta.format !== TRAINING_CHECKPOINT_FORMAT) {
    throw new DspyError(
      'state',
      `${path}: expected a '${TRAINING_CHECKPOINT_FORMAT}' checkpoint, found format ${JSON.stringify(meta.format)}.`,
    );
  }
  const tensors = new Map<string, Float32Array>();
  for (const [name, tensor] of parseSafetensors(bytes, path)) tensors.set(name, tensor.data);
  return { meta, tensors };
}

function readMetadata(bytes: Uint8Array, path: string): string {
  const fail = (): never => {
    throw new DspyError('state', `${path} is not a training checkpoint (no '${METADATA_KEY}' metadata).`);
  };
  if (bytes.length < 8) fail();
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (length > bytes.length - 8) fail();
  let header: { __metadata__?: Record<string, string> };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  } catch {
    return fail();
  }
  return header.__metadata__?.[METADATA_KEY] ?? fail();
}
