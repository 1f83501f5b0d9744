import type { z } from 'zod';
import { SignatureError } from '../errors.ts';

// Process-wide names for the string syntax, like classes importable by name in Python; explicit
// `options.types` passed to a parse always take precedence over these.
const registry = new Map<string, z.ZodType>();

const IDENTIFIER_PATH = /^[\p{L}_][\p{L}\p{N}_]*(\.[\p{L}_][\p{L}\p{N}_]*)*$/u;

/**
 * Makes `name` usable as a type in string signatures everywhere (`'person: Person -> summary: Summary'`),
 * validated by `schema`. Re-registering a name replaces the schema. Names passed through a parse call's
 * `types` option take precedence.
 *
 * @example
 * registerType('Person', z.object({ name: z.string() }).meta({ title: 'Person' }));
 * Signature.parse('person: Person -> greeting');
 */
export function registerType(name: string, schema: z.ZodType): void {
  if (!IDENTIFIER_PATH.test(name)) {
    throw new SignatureError(
      `Invalid type name ${JSON.stringify(name)}: expected an identifier such as 'Person' or 'models.Person'.`,
    );
  }
  registry.set(name, schema);
}

/** Removes a name added with {@link registerType}; returns whether it was registered. */
export function unregisterType(name: string): boolean {
  return registry.delete(name);
}

/** The schema registered under `name`, if any. */
export function lookupRegisteredType(name: string): z.ZodType | undefined {
  return registry.get(name);
}

/** Names currently registered with {@link registerType}, in registration order. */
export function registeredTypeNames(): string[] {
  return [...registry.keys()];
}
