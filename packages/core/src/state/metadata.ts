import corePackage from '../../package.json' with { type: 'json' };

/** The DSPy release whose saved-program layout dspy-ts reads and writes. */
export const DSPY_COMPATIBLE_VERSION = '3.3.1';

/** Version of `@dspy-ts/core`, as written into saved programs. */
export const DSPY_TS_VERSION: string = corePackage.version;

/** The `metadata` block of a saved program. */
export interface StateMetadata {
  /**
   * Versions of what produced the file, as DSPy records them. DSPy compares each key it finds with its own
   * environment and only warns on a mismatch; dspy-ts writes just `dspy` (the format version it follows), since it
   * has no Python or cloudpickle to report.
   */
  dependency_versions: Record<string, string>;
  /** Anything else a writer added, e.g. `dspy_ts_version`. */
  [key: string]: unknown;
}

/** The metadata dspy-ts writes into a freshly saved program. */
export function createStateMetadata(): StateMetadata {
  return { dependency_versions: { dspy: DSPY_COMPATIBLE_VERSION }, dspy_ts_version: DSPY_TS_VERSION };
}

/**
 * Warnings about a loaded file's metadata, in the spirit of DSPy's version-mismatch warning. Python-only entries
 * (`python`, `cloudpickle`) are not compared: they describe the writer's environment, not the format.
 */
export function metadataWarnings(metadata: unknown, file: string): string[] {
  if (typeof metadata !== 'object' || metadata === null) return [];
  const versions = (metadata as { dependency_versions?: unknown }).dependency_versions;
  if (typeof versions !== 'object' || versions === null) return [];
  const saved = (versions as Record<string, unknown>).dspy;
  if (saved === undefined || saved === DSPY_COMPATIBLE_VERSION) return [];
  return [
    `There is a mismatch of dspy version between the saved program "${file}" and this library. The file was saved ` +
      `with \`dspy==${String(saved)}\`, but dspy-ts follows \`dspy==${DSPY_COMPATIBLE_VERSION}\`. This might cause ` +
      'errors or degraded results; consider re-saving the program with a matching version.',
  ];
}
