/**
 * Type-level parsing of string signatures, so that `Signature.parse('question: str -> answer: int')` is typed
 * `Signature<{ question: string }, { answer: number }>`. Anything this parser cannot read degrades to `unknown`
 * (or `Record<string, unknown>` for a malformed signature), never to a compile error.
 *
 * @module
 */
import type { z } from 'zod';
import type { History } from '../primitives/history.ts';

type Whitespace = ' ' | '\n' | '\t' | '\r';
type TrimStart<S extends string> = S extends `${Whitespace}${infer R}` ? TrimStart<R> : S;
type TrimEnd<S extends string> = S extends `${infer R}${Whitespace}` ? TrimEnd<R> : S;

/** `S` without leading and trailing whitespace. */
export type Trim<S extends string> = TrimEnd<TrimStart<S>>;

/**
 * Splits `S` on `Sep` where it is not nested in brackets or quotes. Written as one tail-recursive walk over the
 * characters so that long signatures stay within the compiler's recursion limits.
 */
export type SplitTopLevel<
  S extends string,
  Sep extends string,
  Depth extends 0[] = [],
  Quote extends string = '',
  Cur extends string = '',
  Acc extends string[] = [],
> = S extends `${infer C}${infer Rest}`
  ? Quote extends ''
    ? C extends "'" | '"'
      ? SplitTopLevel<Rest, Sep, Depth, C, `${Cur}${C}`, Acc>
      : C extends '['
        ? SplitTopLevel<Rest, Sep, [...Depth, 0], Quote, `${Cur}${C}`, Acc>
        : C extends ']'
          ? SplitTopLevel<Rest, Sep, Depth extends [0, ...infer D extends 0[]] ? D : [], Quote, `${Cur}${C}`, Acc>
          : C extends Sep
            ? Depth extends []
              ? SplitTopLevel<Rest, Sep, Depth, Quote, '', [...Acc, Cur]>
              : SplitTopLevel<Rest, Sep, Depth, Quote, `${Cur}${C}`, Acc>
            : SplitTopLevel<Rest, Sep, Depth, Quote, `${Cur}${C}`, Acc>
    : C extends Quote
      ? SplitTopLevel<Rest, Sep, Depth, '', `${Cur}${C}`, Acc>
      : SplitTopLevel<Rest, Sep, Depth, Quote, `${Cur}${C}`, Acc>
  : [...Acc, Cur];

type NonEmpty<Parts extends string[]> = Parts extends [infer H extends string, ...infer R extends string[]]
  ? Trim<H> extends ''
    ? NonEmpty<R>
    : [Trim<H>, ...NonEmpty<R>]
  : [];

type StripModule<S extends string> = S extends `${'typing' | 'typing_extensions' | 'builtins' | 'dspy'}.${infer R}`
  ? R
  : S;

type UnionOf<Parts extends string[], C> = Parts extends [infer H extends string, ...infer R extends string[]]
  ? ParseTypeText<H, C> | UnionOf<R, C>
  : never;

type LiteralValue<S extends string> = S extends `'${infer V}'`
  ? V
  : S extends `"${infer V}"`
    ? V
    : S extends 'True'
      ? true
      : S extends 'False'
        ? false
        : S extends 'None'
          ? null
          : S extends `${infer N extends number}`
            ? N
            : unknown;

type LiteralsOf<Parts extends string[]> = Parts extends [infer H extends string, ...infer R extends string[]]
  ? LiteralValue<H> | LiteralsOf<R>
  : never;

type TupleOf<Parts extends string[], C> = Parts extends [infer H extends string, ...infer R extends string[]]
  ? [ParseTypeText<H, C>, ...TupleOf<R, C>]
  : [];

type DictKey<K> = [K] extends [string] ? K : string;

type ParseGeneric<G extends string, Args extends string, C> = G extends 'list' | 'List'
  ? ParseTypeText<Args, C>[]
  : G extends 'dict' | 'Dict'
    ? NonEmpty<SplitTopLevel<Args, ','>> extends [infer K extends string, infer V extends string]
      ? Record<DictKey<ParseTypeText<K, C>>, ParseTypeText<V, C>>
      : unknown
    : G extends 'Optional'
      ? ParseTypeText<Args, C> | null
      : G extends 'Union'
        ? UnionOf<NonEmpty<SplitTopLevel<Args, ','>>, C>
        : G extends 'Literal'
          ? LiteralsOf<NonEmpty<SplitTopLevel<Args, ','>>>
          : G extends 'tuple' | 'Tuple'
            ? NonEmpty<SplitTopLevel<Args, ','>> extends [infer H extends string, '...']
              ? ParseTypeText<H, C>[]
              : TupleOf<NonEmpty<SplitTopLevel<Args, ','>>, C>
            : unknown;

type ParseAtom<T extends string, C> = T extends keyof C
  ? C[T] extends z.ZodType
    ? z.infer<C[T]>
    : unknown
  : StripModule<T> extends infer U extends string
    ? U extends 'str'
      ? string
      : U extends 'int' | 'float'
        ? number
        : U extends 'bool'
          ? boolean
          : U extends 'Any'
            ? unknown
            : U extends 'None' | 'NoneType'
              ? null
              : U extends 'History'
                ? History
                : U extends 'list' | 'List' | 'tuple' | 'Tuple'
                  ? unknown[]
                  : U extends 'dict' | 'Dict'
                    ? Record<string, unknown>
                    : U extends `${infer G}[${infer Args}]`
                      ? ParseGeneric<Trim<G>, Args, C>
                      : unknown
    : unknown;

/**
 * The TypeScript type of a Python-style type annotation, e.g. `ParseTypeText<'list[str] | None', {}>` is
 * `string[] | null`. Custom names resolve through `C` (name → zod schema); unknown names become `unknown`.
 */
export type ParseTypeText<T extends string, C = {}> =
  NonEmpty<SplitTopLevel<T, '|'>> extends [infer Only extends string]
    ? ParseAtom<Only, C>
    : UnionOf<NonEmpty<SplitTopLevel<T, '|'>>, C>;

type FieldEntry<F extends string, C> = F extends `${infer N}:${infer Ty}`
  ? [Trim<N>, ParseTypeText<Trim<Ty>, C>]
  : [F, string];

type FieldEntries<Parts extends string[], C> = Parts extends [infer H extends string, ...infer R extends string[]]
  ? FieldEntry<H, C> | FieldEntries<R, C>
  : never;

type ObjectOf<E extends [string, unknown]> = { [P in E as P[0]]: P[1] };

/** The record type of one side (`a: int, b`) of a string signature. */
export type InferFieldsText<Side extends string, C = {}> = ObjectOf<
  FieldEntries<NonEmpty<SplitTopLevel<Side, ','>>, C>
>;

type Sides<T extends string> = string extends T
  ? undefined
  : T extends `${infer L}->${infer R}`
    ? R extends `${string}->${string}`
      ? undefined
      : [L, R]
    : undefined;

/** Input record type of the string signature `T`, e.g. `{ question: string }` for `'question -> answer: int'`. */
export type InferInputs<T extends string, C = {}> =
  Sides<T> extends [infer L extends string, string] ? InferFieldsText<L, C> : Record<string, unknown>;

/** Output record type of the string signature `T`, e.g. `{ answer: number }` for `'question -> answer: int'`. */
export type InferOutputs<T extends string, C = {}> =
  Sides<T> extends [string, infer R extends string] ? InferFieldsText<R, C> : Record<string, unknown>;
