import type { z } from 'zod';
import { SignatureError } from '../errors.ts';
import { pointAt } from './source-pointer.ts';
import type { TypeNode } from './type-node.ts';
import { typeNodesEqual } from './type-node-utils.ts';
import { lookupRegisteredType, registeredTypeNames } from './type-registry.ts';

/** Reports a syntax problem at `index` (absolute, within the source text) and never returns. */
export type TypeSyntaxFailure = (issue: string, index: number, width?: number) => never;

type LiteralValue = string | number | boolean | null;

type Token =
  | { type: 'name'; text: string; start: number; end: number }
  | { type: 'string'; value: string; start: number; end: number }
  | { type: 'number'; value: number; start: number; end: number }
  | { type: 'punct'; text: '[' | ']' | ',' | '|' | '...' | '(' | ')'; start: number; end: number }
  | { type: 'end'; start: number; end: number };

/** Type names the string syntax understands without registration, as listed in error messages. */
export const BUILTIN_TYPE_NAMES = [
  'str',
  'int',
  'float',
  'bool',
  'Any',
  'None',
  'list',
  'dict',
  'tuple',
  'Optional',
  'Union',
  'Literal',
  'History',
] as const;

// Module prefixes a Python user would write (`typing.Optional`, `dspy.History`) that name the same builtins.
const IGNORED_MODULE_PREFIXES = ['typing.', 'typing_extensions.', 'builtins.', 'dspy.', 't.'];

const NAME_START = /[\p{L}_]/u;
const NAME_PART = /[\p{L}\p{N}_]/u;

function tokenize(source: string, start: number, end: number, fail: TypeSyntaxFailure): Token[] {
  const tokens: Token[] = [];
  let i = start;
  while (i < end) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (source.startsWith('...', i) && i + 3 <= end) {
      tokens.push({ type: 'punct', text: '...', start: i, end: i + 3 });
      i += 3;
      continue;
    }
    if ('[],|()'.includes(ch)) {
      tokens.push({ type: 'punct', text: ch as '[' | ']' | ',' | '|' | '(' | ')', start: i, end: i + 1 });
      i++;
      continue;
    }
    if (NAME_START.test(ch)) {
      let j = i + 1;
      while (
        j < end &&
        (NAME_PART.test(source[j] as string) || (source[j] === '.' && NAME_START.test(source[j + 1] ?? '')))
      )
        j++;
      tokens.push({ type: 'name', text: source.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    if (/[-+0-9.]/.test(ch)) {
      const match = /^[-+]?(\d[\d_]*(\.[\d_]*)?|\.\d[\d_]*)([eE][-+]?\d+)?/.exec(source.slice(i, end));
      if (match) {
        tokens.push({
          type: 'number',
          value: Number(match[0].replaceAll('_', '')),
          start: i,
          end: i + match[0].length,
        });
        i += match[0].length;
        continue;
      }
    }
    if (ch === "'" || ch === '"') {
      const { value, next } = readString(source, i, end, fail);
      tokens.push({ type: 'string', value, start: i, end: next });
      i = next;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(ch)}`, i);
  }
  tokens.push({ type: 'end', start: end, end });
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '0': '\0',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

function readString(
  source: string,
  start: number,
  end: number,
  fail: TypeSyntaxFailure,
): { value: string; next: number } {
  const quote = source[start];
  let value = '';
  let i = start + 1;
  while (i < end) {
    const ch = source[i] as string;
    if (ch === quote) return { value, next: i + 1 };
    if (ch === '\n') break;
    if (ch === '\\' && i + 1 < end) {
      const esc = source[i + 1] as string;
      const hexLength = esc === 'x' ? 2 : esc === 'u' ? 4 : esc === 'U' ? 8 : 0;
      if (hexLength > 0) {
        const hex = source.slice(i + 2, i + 2 + hexLength);
        if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) {
          fail(`invalid \\${esc} escape in string literal`, i, 2 + hexLength);
        }
        value += String.fromCodePoint(Number.parseInt(hex, 16));
        i += 2 + hexLength;
        continue;
      }
      // Python keeps unknown escapes verbatim, backslash included.
      value += SIMPLE_ESCAPES[esc] ?? `\\${esc}`;
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
  return fail(`unterminated string literal: expected a closing ${quote}`, start);
}

/** Builds a union the way Python's typing does: nested unions flatten, duplicates drop, one option collapses. */
export function makeUnion(options: readonly TypeNode[], syntax: 'typing' | 'pipe'): TypeNode {
  let resultSyntax = syntax;
  const flat: TypeNode[] = [];
  const add = (option: TypeNode): void => {
    if (option.kind === 'union') {
      // `int | Optional[str]` yields a typing.Union in Python, so typing syntax is contagious.
      if (option.syntax === 'typing') resultSyntax = 'typing';
      for (const inner of option.options) add(inner);
      return;
    }
    if (!flat.some((existing) => typeNodesEqual(existing, option))) flat.push(option);
  };
  for (const option of options) add(option);
  if (flat.length === 1) return flat[0] as TypeNode;
  return { kind: 'union', options: flat, syntax: resultSyntax };
}

function knownTypesHint(customTypes: Record<string, z.ZodType> | undefined): string {
  const custom = [...new Set([...Object.keys(customTypes ?? {}), ...registeredTypeNames()])];
  const customText = custom.length > 0 ? `; custom: ${custom.join(', ')}` : '';
  return (
    `Known types: ${BUILTIN_TYPE_NAMES.join(', ')}${customText}. ` +
    'Pass other types with `Signature.parse(text, instructions, { types: { Name: zodSchema } })` or `registerType(name, schema)`'
  );
}

class TypeParser {
  private pos = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly customTypes: Record<string, z.ZodType> | undefined,
    private readonly fail: TypeSyntaxFailure,
  ) {}

  parseAll(): TypeNode {
    const first = this.peek();
    if (first.type === 'end') this.fail('expected a type, found nothing', first.start);
    const node = this.parseUnion();
    const next = this.peek();
    if (next.type !== 'end') {
      if (next.type === 'punct' && next.text === ']') {
        this.fail("unbalanced brackets: found ']' with no matching '['", next.start);
      }
      this.fail(`expected the end of the type, found ${describe(next)}`, next.start, next.end - next.start);
    }
    return node;
  }

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private take(): Token {
    const token = this.tokens[this.pos] as Token;
    if (token.type !== 'end') this.pos++;
    return token;
  }

  private isPunct(text: string): boolean {
    const token = this.peek();
    return token.type === 'punct' && token.text === text;
  }

  private parseUnion(): TypeNode {
    const options = [this.parseTerm()];
    while (this.isPunct('|')) {
      this.take();
      options.push(this.parseTerm());
    }
    return options.length === 1 ? (options[0] as TypeNode) : makeUnion(options, 'pipe');
  }

  private parseTerm(): TypeNode {
    const token = this.take();
    if (token.type !== 'name') {
      if (token.type === 'punct' && token.text === ']') {
        this.fail("unbalanced brackets: found ']' with no matching '['", token.start);
      }
      return this.fail(`expected a type name, found ${describe(token)}`, token.start, token.end - token.start);
    }
    const custom = this.customTypes?.[token.text];
    if (custom !== undefined) return this.finishCustom(token, custom);
    const builtin = stripModulePrefix(token.text);
    switch (builtin) {
      case 'str':
      case 'int':
      case 'float':
      case 'bool':
        return this.noArguments(token, { kind: builtin });
      case 'Any':
        return this.noArguments(token, { kind: 'any' });
      case 'None':
      case 'NoneType':
        return this.noArguments(token, { kind: 'none' });
      case 'History':
        return this.noArguments(token, { kind: 'history' });
      case 'list':
      case 'List': {
        if (!this.isPunct('[')) return { kind: 'list', item: { kind: 'any' }, bare: true };
        const [item] = this.typeArguments(token, 1, 1, 'list[T]');
        return { kind: 'list', item: item as TypeNode };
      }
      case 'dict':
      case 'Dict': {
        if (!this.isPunct('[')) return { kind: 'dict', key: { kind: 'str' }, value: { kind: 'any' }, bare: true };
        const [key, value] = this.typeArguments(token, 2, 2, 'dict[K, V]');
        return { kind: 'dict', key: key as TypeNode, value: value as TypeNode };
      }
      case 'tuple':
      case 'Tuple':
        return this.parseTuple(token);
      case 'Optional': {
        if (!this.isPunct('[')) this.fail('Optional needs a type argument, as in Optional[int]', token.end);
        const [inner] = this.typeArguments(token, 1, 1, 'Optional[T]');
        return makeUnion([inner as TypeNode, { kind: 'none' }], 'typing');
      }
      case 'Union': {
        if (!this.isPunct('[')) this.fail('Union needs type arguments, as in Union[int, str]', token.end);
        return makeUnion(this.typeArguments(token, 1, Number.POSITIVE_INFINITY, 'Union[A, B]'), 'typing');
      }
      case 'Literal':
        return this.parseLiteral(token);
    }
    const registered =
      lookupRegisteredType(token.text) ??
      (token.text.includes('.') ? lookupRegisteredType(token.text.slice(token.text.lastIndexOf('.') + 1)) : undefined);
    if (registered !== undefined) return this.finishCustom(token, registered);
    const lastSegment = token.text.includes('.') ? token.text.slice(token.text.lastIndexOf('.') + 1) : undefined;
    const customByLast = lastSegment === undefined ? undefined : this.customTypes?.[lastSegment];
    if (customByLast !== undefined) return this.finishCustom(token, customByLast);
    return this.fail(
      `unknown type '${token.text}'. ${knownTypesHint(this.customTypes)}`,
      token.start,
      token.end - token.start,
    );
  }

  private finishCustom(token: Token & { type: 'name' }, schema: z.ZodType): TypeNode {
    return this.noArguments(token, { kind: 'custom', name: token.text, schema });
  }

  private noArguments(token: Token & { type: 'name' }, node: TypeNode): TypeNode {
    if (this.isPunct('[')) {
      this.fail(`'${token.text}' does not take type arguments, found '['`, this.peek().start);
    }
    return node;
  }

  /** Parses `[A, B, ...]` after a generic name, checking the argument count. */
  private typeArguments(token: Token & { type: 'name' }, min: number, max: number, usage: string): TypeNode[] {
    const open = this.take();
    const args: TypeNode[] = [];
    if (this.isPunct(']')) {
      this.fail(`'${token.text}[]' needs at least one type argument, as in ${usage}`, this.peek().start);
    }
    for (;;) {
      args.push(this.parseUnion());
      if (this.isPunct(',')) {
        this.take();
        if (this.isPunct(']')) break;
        continue;
      }
      break;
    }
    this.closeBracket(open);
    if (args.length < min || args.length > max) {
      const expected = min === max ? `${min}` : `at least ${min}`;
      this.fail(
        `'${token.text}' takes ${expected} type argument${min === 1 && max === 1 ? '' : 's'} (${usage}), found ${args.length}`,
        token.start,
        token.end - token.start,
      );
    }
    return args;
  }

  private closeBracket(open: Token): void {
    const next = this.peek();
    if (next.type === 'punct' && next.text === ']') {
      this.take();
      return;
    }
    if (next.type === 'end') this.fail("unbalanced brackets: this '[' is never closed", open.start);
    this.fail(`expected ',' or ']', found ${describe(next)}`, next.start, next.end - next.start);
  }

  private parseTuple(token: Token & { type: 'name' }): TypeNode {
    if (!this.isPunct('[')) return { kind: 'tuple', items: [{ kind: 'any' }], variadic: true, bare: true };
    const open = this.take();
    const items: TypeNode[] = [];
    let variadic = false;
    if (this.isPunct(']'))
      this.fail(`'${token.text}[]' needs at least one type argument, as in tuple[int, str]`, this.peek().start);
    for (;;) {
      if (this.isPunct('...')) {
        const ellipsis = this.take();
        if (items.length !== 1 || variadic) {
          this.fail("'...' is only allowed as the second argument, as in tuple[int, ...]", ellipsis.start, 3);
        }
        variadic = true;
      } else {
        if (variadic) this.fail("nothing may follow '...' in tuple[T, ...]", this.peek().start);
        items.push(this.parseUnion());
      }
      if (this.isPunct(',')) {
        this.take();
        if (this.isPunct(']')) break;
        continue;
      }
      break;
    }
    this.closeBracket(open);
    return variadic ? { kind: 'tuple', items, variadic: true } : { kind: 'tuple', items };
  }

  private parseLiteral(token: Token & { type: 'name' }): TypeNode {
    if (!this.isPunct('[')) this.fail("Literal needs values, as in Literal['yes', 'no']", token.end);
    const open = this.take();
    const values: LiteralValue[] = [];
    const addValue = (value: LiteralValue): void => {
      if (!values.some((v) => typeof v === typeof value && Object.is(v, value))) values.push(value);
    };
    if (this.isPunct(']'))
      this.fail("'Literal[]' needs at least one value, as in Literal['yes', 'no']", this.peek().start);
    for (;;) {
      const value = this.take();
      if (value.type === 'string' || value.type === 'number') addValue(value.value);
      else if (value.type === 'name' && (value.text === 'True' || value.text === 'False'))
        addValue(value.text === 'True');
      else if (value.type === 'name' && value.text === 'None') addValue(null);
      else if (value.type === 'name' && stripModulePrefix(value.text) === 'Literal' && this.isPunct('[')) {
        // Python flattens Literal[Literal['a'], 'b'] into Literal['a', 'b'].
        this.pos--;
        const nested = this.parseTerm();
        if (nested.kind === 'literal') for (const v of nested.values) addValue(v);
      } else {
        if (value.type === 'end') this.fail("unbalanced brackets: this '[' is never closed", open.start);
        this.fail(
          `Literal values must be strings, numbers, True, False or None, found ${describe(value)}`,
          value.start,
          value.end - value.start,
        );
      }
      if (this.isPunct(',')) {
        this.take();
        if (this.isPunct(']')) break;
        continue;
      }
      break;
    }
    this.closeBracket(open);
    return { kind: 'literal', values };
  }
}

function stripModulePrefix(name: string): string {
  for (const prefix of IGNORED_MODULE_PREFIXES) {
    if (name.startsWith(prefix)) return name.slice(prefix.length);
  }
  return name;
}

function describe(token: Token): string {
  switch (token.type) {
    case 'end':
      return 'the end of the text';
    case 'name':
      return `'${token.text}'`;
    case 'string':
      return `the string ${JSON.stringify(token.value)}`;
    case 'number':
      return `the number ${token.value}`;
    case 'punct':
      return `'${token.text}'`;
  }
}

/**
 * Parses the type in `source.slice(start, end)`; problems are reported through `fail` with absolute positions
 * so that callers can point into the text they were given (a whole signature, or just a type).
 */
export function parseTypeSource(
  source: string,
  start: number,
  end: number,
  customTypes: Record<string, z.ZodType> | undefined,
  fail: TypeSyntaxFailure,
): TypeNode {
  return new TypeParser(tokenize(source, start, end, fail), customTypes, fail).parseAll();
}

/**
 * Parses a Python-style type annotation as used in string signatures: `str`, `int`, `float`, `bool`, `Any`,
 * `None`, `list[T]`, `dict[K, V]`, `tuple[A, B]`, `tuple[T, ...]`, `Optional[T]`, `Union[A, B]`, `A | B`,
 * `Literal['a', 1, True, None]`, `History`, and custom names from `customTypes` or {@link registerType}.
 *
 * @throws {SignatureError} with a `^` marker under the offending text.
 * @example parseTypeExpression('list[str] | None') // => { kind: 'union', syntax: 'pipe', options: [...] }
 */
export function parseTypeExpression(text: string, customTypes?: Record<string, z.ZodType>): TypeNode {
  const fail: TypeSyntaxFailure = (issue, index, width = 1) => {
    throw new SignatureError(
      `Invalid type expression ${JSON.stringify(text)}: ${issue}.\n${pointAt(text, index, width)}`,
    );
  };
  return parseTypeSource(text, 0, text.length, customTypes, fail);
}
