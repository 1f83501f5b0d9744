import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { DspyError, StateError } from '../errors.ts';
import { formatStateJson } from './json-format.ts';

function checkExtension(file: string): void {
  const ext = extname(file);
  if (ext === '.json') return;
  if (ext === '.pkl') {
    throw new DspyError(
      'invalid_argument',
      `Cannot use "${file}": pickle files are not supported, because loading them runs arbitrary code. ` +
        'Save and load the program state as JSON (a path ending in ".json").',
    );
  }
  throw new DspyError('invalid_argument', `Expected a path ending in ".json" for program state, got "${file}".`);
}

/**
 * Writes `state` as DSPy-layout JSON to `file` atomically: the text goes to a temporary file in the same folder,
 * which is then renamed over `file`, so a crash or a serialization error never leaves a half-written program.
 */
export async function writeStateFile(file: string, state: Record<string, unknown>): Promise<void> {
  checkExtension(file);
  let text: string;
  try {
    text = formatStateJson(state);
  } catch (error) {
    throw new DspyError(
      'state',
      `Failed to save state to "${file}": the program state is not JSON-serializable (${(error as Error).message}).`,
      { cause: error },
    );
  }
  const temp = join(dirname(file), `.${basename(file)}.${randomUUID()}.tmp`);
  try {
    await writeFile(temp, text, 'utf8');
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new DspyError('state', `Failed to save state to "${file}": ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Reads and parses a saved program state. Never executes anything from the file. Errors name the file: a missing
 * file, unreadable text, invalid JSON and a top level that is not an object are all reported as `StateError`s.
 */
export async function readStateFile(file: string): Promise<Record<string, unknown>> {
  checkExtension(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'the file does not exist' : (error as Error).message;
    throw new StateError('', `Cannot load program state from "${file}": ${reason}.`, { cause: error });
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw new StateError('', `Cannot load program state from "${file}": invalid JSON (${(error as Error).message}).`, {
      cause: error,
    });
  }
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    throw new StateError(
      '',
      `Cannot load program state from "${file}": expected a JSON object at the top level, found ${
        Array.isArray(state) ? 'an array' : state === null ? 'null' : typeof state
      }.`,
    );
  }
  return state as Record<string, unknown>;
}
