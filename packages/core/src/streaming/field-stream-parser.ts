/** The wire format an LM reply is written in, which decides where each output field starts and ends. */
export type StreamFormat = 'chat' | 'json' | 'xml';

/** A piece of one output field's value, cut from the streamed reply. */
export interface FieldChunk {
  /** The output field the text belongs to. */
  field: string;
  /** The new text of the field's value. */
  chunk: string;
  /** True for the field's final piece (its value is complete). */
  isLastChunk: boolean;
}

/**
 * Cuts a streamed LM reply into per-field chunks. Text may arrive split anywhere — inside a field marker, an escape
 * sequence or an entity — and the parser holds back just enough text to decide. Concatenating a field's chunks gives
 * the text the adapter parses for that field (stripped of surrounding whitespace for Chat and XML, the decoded string
 * for JSON strings, the raw JSON for other JSON values).
 */
export interface FieldStreamParser {
  /** Feeds more reply text; returns the chunks it completes. */
  push(delta: string): FieldChunk[];
  /** Ends the reply; returns the remaining chunks (a field still open gets its last chunk). */
  finish(): FieldChunk[];
}

/**
 * A parser for `format`. With `fields`, only those fields are reported; without, every field the reply contains
 * (except Chat's `completed` marker).
 */
export function createFieldStreamParser(format: StreamFormat, fields?: readonly string[]): FieldStreamParser {
  const accepts = (name: string) => (fields ? fields.includes(name) : !(format === 'chat' && name === 'completed'));
  switch (format) {
    case 'json':
      return new JsonFieldParser(accepts);
    case 'xml':
      return new XmlFieldParser(accepts);
    default:
      return new ChatFieldParser(accepts);
  }
}

const NAME = '[\\p{L}\\p{N}_]+';
const WHITESPACE = /\s/u;

/** `(?:a(?:b(?:c)?)?)?` for the pieces `a`, `b`, `c`: matches every prefix of their concatenation. */
function prefixPattern(pieces: readonly string[]): string {
  let pattern = '';
  for (let i = pieces.length - 1; i >= 0; i--) pattern = `(?:${pieces[i]}${pattern})?`;
  return pattern;
}

const escapeRegExp = (text: string) => text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

const CHAT_HEADER = new RegExp(`\\[\\[ ## (${NAME}) ## \\]\\]`, 'gu');
const CHAT_PARTIAL_HEADER = new RegExp(
  `\\[${prefixPattern([...'[ ## '].map(escapeRegExp).concat([`${NAME}`], [...' ## ]]'].map(escapeRegExp)))}$`,
  'u',
);

/** Index where trailing whitespace of `text[from, end)` begins. */
function trimmedEnd(text: string, from: number, end: number): number {
  let i = end;
  while (i > from && WHITESPACE.test(text[i - 1] as string)) i--;
  return i;
}

const SKIP = Symbol('skip');

/** Shared bookkeeping: the current field and whether its leading whitespace was already dropped. */
abstract class SectionParser implements FieldStreamParser {
  protected text = '';
  protected pos = 0;
  protected field: string | typeof SKIP | null = null;
  private started = false;

  constructor(protected readonly accepts: (name: string) => boolean) {}

  push(delta: string): FieldChunk[] {
    this.text += delta;
    const out: FieldChunk[] = [];
    this.drain(false, out);
    return out;
  }

  finish(): FieldChunk[] {
    const out: FieldChunk[] = [];
    this.drain(true, out);
    return out;
  }

  protected abstract drain(final: boolean, out: FieldChunk[]): void;

  protected enter(name: string): void {
    this.field = this.accepts(name) ? name : SKIP;
    this.started = false;
  }

  /** Emits the raw section text `raw`, stripping leading whitespace of the section and trailing when `last`. */
  protected emit(raw: string, last: boolean, out: FieldChunk[], decode: (s: string) => string = (s) => s): void {
    const field = this.field;
    if (last) this.field = null;
    if (field === null || field === SKIP) return;
    let text = raw;
    if (!this.started) text = text.replace(/^\s+/u, '');
    if (last) text = text.replace(/\s+$/u, '');
    if (!text && !last) return;
    this.started = true;
    out.push({ field, chunk: decode(text), isLastChunk: last });
  }
}

/** ChatAdapter replies: `[[ ## field ## ]]` markers open sections; the next marker or the end closes them. */
class ChatFieldParser extends SectionParser {
  protected drain(final: boolean, out: FieldChunk[]): void {
    for (;;) {
      CHAT_HEADER.lastIndex = this.pos;
      const header = CHAT_HEADER.exec(this.text);
      if (this.field === null) {
        if (!header) {
          this.pos = final ? this.text.length : this.partialStart();
          return;
        }
        this.pos = header.index + header[0].length;
        this.enter(header[1] as string);
        continue;
      }
      if (header) {
        this.emit(this.text.slice(this.pos, header.index), true, out);
        this.pos = header.index;
        continue;
      }
      if (final) {
        this.emit(this.text.slice(this.pos), true, out);
        this.pos = this.text.length;
        return;
      }
      const end = trimmedEnd(this.text, this.pos, this.partialStart());
      this.emit(this.text.slice(this.pos, end), false, out);
      this.pos = end;
      return;
    }
  }

  /** Where a marker that may still be completing begins (the text's length when there is none). */
  private partialStart(): number {
    const tail = this.text.slice(this.pos);
    const match = CHAT_PARTIAL_HEADER.exec(tail);
    return match ? this.pos + match.index : this.text.length;
  }
}

const XML_OPEN = new RegExp(`<(${NAME})>`, 'gu');
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, body: string) => {
    if (body.startsWith('#x')) return String.fromCodePoint(Number.parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return String.fromCodePoint(Number.parseInt(body.slice(1), 10));
    return ENTITIES[body] ?? whole;
  });
}

/** XMLAdapter replies: `<field>` opens a section, the matching `</field>` closes it; entities are decoded. */
class XmlFieldParser extends SectionParser {
  private closing = '';

  protected drain(final: boolean, out: FieldChunk[]): void {
    for (;;) {
      if (this.field === null) {
        XML_OPEN.lastIndex = this.pos;
        const open = XML_OPEN.exec(this.text);
        if (!open) {
          const lt = this.text.indexOf('<', this.pos);
          this.pos = final || lt < 0 ? this.text.length : this.lastOpenBracket();
          return;
        }
        this.pos = open.index + open[0].length;
        this.enter(open[1] as string);
        this.closing = `</${open[1]}>`;
        continue;
      }
      const close = this.text.indexOf(this.closing, this.pos);
      if (close >= 0) {
        this.emit(this.text.slice(this.pos, close), true, out, decodeEntities);
        this.pos = close + this.closing.length;
        continue;
      }
      if (final) {
        this.emit(this.text.slice(this.pos), true, out, decodeEntities);
        this.pos = this.text.length;
        return;
      }
      let end = this.text.length;
      // Hold back a closing tag or an entity that may still be completing.
      for (let i = Math.max(this.pos, end - this.closing.length); i < end; i++) {
        if (this.closing.startsWith(this.text.slice(i))) {
          end = i;
          break;
        }
      }
      const amp = this.text.lastIndexOf('&', end - 1);
      if (amp >= this.pos && !this.text.slice(amp, end).includes(';') && end - amp <= 12) end = amp;
      end = trimmedEnd(this.text, this.pos, end);
      this.emit(this.text.slice(this.pos, end), false, out, decodeEntities);
      this.pos = end;
      return;
    }
  }

  /** Outside a field, keep an unfinished `<name` so an opening tag split across chunks is still found. */
  private lastOpenBracket(): number {
    const lt = this.text.lastIndexOf('<');
    return lt >= this.pos && !this.text.slice(lt).includes('>') ? lt : this.text.length;
  }
}

type JsonState = 'pre' | 'key' | 'keyString' | 'colon' | 'value' | 'string' | 'raw' | 'after' | 'done';

const JSON_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * JSONAdapter replies: one top-level object; each `"field":` key opens a value. String values are streamed decoded;
 * other values (numbers, lists, objects) as their raw JSON text. Text before the object (a code fence) is skipped.
 */
class JsonFieldParser implements FieldStreamParser {
  private text = '';
  private i = 0;
  private state: JsonState = 'pre';
  private key = '';
  private field: string | typeof SKIP = SKIP;
  private pending = '';
  private rawDepth = 0;
  private rawInString = false;
  private rawEscape = false;
  private rawStarted = false;

  constructor(private readonly accepts: (name: string) => boolean) {}

  push(delta: string): FieldChunk[] {
    this.text += delta;
    const out: FieldChunk[] = [];
    this.run(out);
    this.flush(out, false);
    return out;
  }

  finish(): FieldChunk[] {
    const out: FieldChunk[] = [];
    this.run(out);
    if (this.state === 'string' || this.state === 'raw') this.flush(out, true);
    this.state = 'done';
    return out;
  }

  private flush(out: FieldChunk[], last: boolean): void {
    if (this.field === SKIP || (this.state !== 'string' && this.state !== 'raw' && !last)) return;
    let text = this.pending;
    let keep = '';
    if (this.state === 'raw') {
      if (!this.rawStarted) text = text.replace(/^\s+/u, '');
      const end = last ? text.replace(/\s+$/u, '').length : trimmedEnd(text, 0, text.length);
      keep = text.slice(end);
      text = text.slice(0, end);
      if (last) keep = '';
    }
    this.pending = keep;
    if (!text && !last) return;
    if (this.state === 'raw') this.rawStarted = true;
    out.push({ field: this.field, chunk: text, isLastChunk: last });
  }

  private endValue(out: FieldChunk[]): void {
    this.flush(out, true);
    this.field = SKIP;
    this.pending = '';
  }

  private run(out: FieldChunk[]): void {
    const text = this.text;
    while (this.i < text.length && this.state !== 'done') {
      const ch = text[this.i] as string;
      switch (this.state) {
        case 'pre':
          if (ch === '{') this.state = 'key';
          this.i++;
          break;
        case 'key':
          if (ch === '"') {
            this.state = 'keyString';
            this.key = '';
          } else if (ch === '}') {
            this.state = 'done';
          }
          this.i++;
          break;
        case 'keyString': {
          if (ch === '\\') {
            const decoded = this.decodeEscape();
            if (decoded === undefined) return;
            this.key += decoded;
            break;
          }
          if (ch === '"') this.state = 'colon';
          else this.key += ch;
          this.i++;
          break;
        }
        case 'colon':
          if (ch === ':') {
            this.state = 'value';
            this.field = this.accepts(this.key) ? this.key : SKIP;
            this.pending = '';
          }
          this.i++;
          break;
        case 'value':
          if (WHITESPACE.test(ch)) {
            this.i++;
          } else if (ch === '"') {
            this.state = 'string';
            this.i++;
          } else {
            this.state = 'raw';
            this.rawDepth = 0;
            this.rawInString = false;
            this.rawEscape = false;
            this.rawStarted = false;
          }
          break;
        case 'string': {
          if (ch === '\\') {
            const decoded = this.decodeEscape();
            if (decoded === undefined) return;
            this.pending += decoded;
            break;
          }
          this.i++;
          if (ch === '"') {
            this.endValue(out);
            this.state = 'after';
          } else {
            this.pending += ch;
          }
          break;
        }
        case 'raw': {
          if (this.rawInString) {
            if (this.rawEscape) this.rawEscape = false;
            else if (ch === '\\') this.rawEscape = true;
            else if (ch === '"') this.rawInString = false;
          } else if (ch === '"') {
            this.rawInString = true;
          } else if (ch === '{' || ch === '[') {
            this.rawDepth++;
          } else if (ch === '}' || ch === ']') {
            if (this.rawDepth === 0) {
              this.endValue(out);
              this.state = ch === '}' ? 'done' : 'after';
              this.i++;
              break;
            }
            this.rawDepth--;
          } else if (ch === ',' && this.rawDepth === 0) {
            this.endValue(out);
            this.state = 'key';
            this.i++;
            break;
          }
          this.pending += ch;
          this.i++;
          break;
        }
        case 'after':
          if (ch === ',') this.state = 'key';
          else if (ch === '}') this.state = 'done';
          this.i++;
          break;
        default:
          return;
      }
    }
  }

  /** Decodes the escape at `this.i` and advances past it; `undefined` when it is not complete yet. */
  private decodeEscape(): string | undefined {
    const next = this.text[this.i + 1];
    if (next === undefined) return undefined;
    if (next === 'u') {
      const hex = this.text.slice(this.i + 2, this.i + 6);
      if (hex.length < 4) return undefined;
      const unit = Number.parseInt(hex, 16);
      // Keep a surrogate pair together so no chunk ends with half a character.
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const low = this.text.slice(this.i + 6, this.i + 12);
        if (low.length < 6) return undefined;
        if (low.startsWith('\\u')) {
          this.i += 12;
          return String.fromCharCode(unit, Number.parseInt(low.slice(2), 16));
        }
      }
      this.i += 6;
      return String.fromCharCode(unit);
    }
    this.i += 2;
    return JSON_ESCAPES[next] ?? next;
  }
}
