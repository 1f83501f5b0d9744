import type { z } from 'zod';
import { SignatureError } from '../errors.ts';
import { parseTypeSource, type TypeSyntaxFailure } from './parse-type-expression.ts';
import { pointAt } from './source-pointer.ts';
import type { TypeNode } from './type-node.ts';

/** One field as written in a string signature. */
export interface ParsedSignatureField {
  /** Field name. */
  name: string;
  /** Which side of `->` it was on. */
  kind: 'input' | 'output';
  /** Its annotation, or `undefined` when none was written. */
  type: TypeNode | undefined;
  /** Offset of the name in the signature text. */
  start: number;
}

/** Valid field names: identifiers, as in Python (letters, digits, underscores; not starting with a digit). */
export const FIELD_NAME = /^[\p{L}_][\p{L}\p{N}_]*$/u;

const EXAMPLE = "as in 'question: str, context: list[str] -> answer: int'";

/**
 * Parses DSPy's string signature syntax, `"a, b: int -> c: list[str]"`, into its fields.
 *
 * @throws {SignatureError} quoting the signature with a `^` marker under the problem.
 */
export function parseSignatureString(text: string, customTypes?: Record<string, z.ZodType>): ParsedSignatureField[] {
  const fail: TypeSyntaxFailure = (issue, index, width = 1) => {
    throw new SignatureError(`Invalid signature ${quote(text)}: ${issue}.\n${pointAt(text, index, width)}`);
  };

  const arrows: number[] = [];
  for (let i = text.indexOf('->'); i !== -1; i = text.indexOf('->', i + 2)) arrows.push(i);
  if (arrows.length !== 1) {
    const found =
      text.trim() === ''
        ? 'an empty signature'
        : arrows.length === 0
          ? "no '->'"
          : `${arrows.length} occurrences of '->'`;
    const at = arrows.length === 0 ? text.length : (arrows[1] as number);
    throw new SignatureError(
      `Invalid signature format: ${quote(text)}, must contain exactly one '->'. ` +
        `Expected inputs and outputs separated by one '->', ${EXAMPLE}; found ${found}.\n${pointAt(text, at, 2)}`,
    );
  }
  checkBrackets(text, fail);

  const arrow = arrows[0] as number;
  const fields: ParsedSignatureField[] = [
    ...parseSide(text, 0, arrow, 'input', customTypes, fail),
    ...parseSide(text, arrow + 2, text.length, 'output', customTypes, fail),
  ];
  if (fields.length === 0) fail(`a signature needs at least one field, ${EXAMPLE}`, arrow, 2);

  const seen = new Map<string, ParsedSignatureField>();
  for (const field of fields) {
    const previous = seen.get(field.name);
    if (previous) {
      const where = previous.kind === field.kind ? `twice among the ${field.kind}s` : 'as both an input and an output';
      fail(
        `field '${field.name}' appears ${where}; signature fields must have distinct names`,
        field.start,
        field.name.length,
      );
    }
    seen.set(field.name, field);
  }
  return fields;
}

function quote(text: string): string {
  return `'${text}'`;
}

function checkBrackets(text: string, fail: TypeSyntaxFailure): void {
  const open: number[] = [];
  let quoteChar: string | undefined;
  let quoteStart = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoteChar !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quoteChar) quoteChar = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quoteChar = ch;
      quoteStart = i;
    } else if (ch === '[') open.push(i);
    else if (ch === ']') {
      if (open.length === 0) fail("unbalanced brackets: found ']' with no matching '['", i);
      open.pop();
    }
  }
  if (quoteChar !== undefined) fail(`unterminated string literal: expected a closing ${quoteChar}`, quoteStart);
  if (open.length > 0) fail("unbalanced brackets: this '[' is never closed", open[open.length - 1] as number);
}

/** Splits `[start, end)` on commas outside brackets and quotes, returning segment bounds. */
function splitTopLevel(text: string, start: number, end: number): [number, number][] {
  const segments: [number, number][] = [];
  let depth = 0;
  let quoteChar: string | undefined;
  let segmentStart = start;
  for (let i = start; i < end; i++) {
    const ch = text[i] as string;
    if (quoteChar !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quoteChar) quoteChar = undefined;
    } else if (ch === "'" || ch === '"') quoteChar = ch;
    else if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (ch === ',' && depth === 0) {
      segments.push([segmentStart, i]);
      segmentStart = i + 1;
    }
  }
  segments.push([segmentStart, end]);
  return segments;
}

function parseSide(
  text: string,
  start: number,
  end: number,
  kind: 'input' | 'output',
  customTypes: Record<string, z.ZodType> | undefined,
  fail: TypeSyntaxFailure,
): ParsedSignatureField[] {
  const fields: ParsedSignatureField[] = [];
  const segments = splitTopLevel(text, start, end);
  segments.forEach(([segStart, segEnd], index) => {
    const raw = text.slice(segStart, segEnd);
    if (raw.trim() === '') {
      // A side may be empty, and one trailing comma is tolerated as in Python argument lists.
      const trailing = index === segments.length - 1 && index > 0;
      if (segments.length === 1 || trailing) return;
      fail(`expected a field name between commas, found nothing`, segStart);
    }
    const colon = raw.indexOf(':');
    const nameEnd = colon === -1 ? segEnd : segStart + colon;
    const nameRaw = text.slice(segStart, nameEnd);
    const name = nameRaw.trim();
    const nameStart = segStart + nameRaw.indexOf(name === '' ? nameRaw : name);
    if (!FIELD_NAME.test(name)) {
      const found = name === '' ? 'nothing' : `'${name}'`;
      fail(
        `expected a field name (an identifier such as 'question' or 'answer_2'), found ${found}` +
          (name.includes(' ') ? "; separate fields with ','" : ''),
        name === '' ? segStart : nameStart,
        Math.max(1, name.length),
      );
    }
    const type = colon === -1 ? undefined : parseTypeSource(text, segStart + colon + 1, segEnd, customTypes, fail);
    fields.push({ name, kind, type, start: nameStart });
  });
  return fields;
}
