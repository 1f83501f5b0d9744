import { ConfigurationError } from '../errors.ts';

/** The parts of `quickjs-emscripten` the sandbox uses. */
export type QuickJSPackage = typeof import('quickjs-emscripten');

const PACKAGE_NAME = 'quickjs-emscripten';

let loading: Promise<QuickJSPackage> | undefined;

/**
 * Loads the optional peer dependency `quickjs-emscripten` on first use, so that programs which never run code do
 * not need it installed.
 *
 * @throws {ConfigurationError} naming the package when it is not installed.
 */
export function loadQuickJS(): Promise<QuickJSPackage> {
  loading ??= import(PACKAGE_NAME).then(
    (mod: QuickJSPackage) => mod,
    (error: unknown) => {
      loading = undefined;
      throw new ConfigurationError(
        `Running generated code needs the optional package "${PACKAGE_NAME}" (QuickJS compiled to WebAssembly), ` +
          `which could not be loaded. Install it next to @dspy-ts/core: \`npm install ${PACKAGE_NAME}@^0.32.0\`.`,
        { cause: error },
      );
    },
  );
  return loading;
}
