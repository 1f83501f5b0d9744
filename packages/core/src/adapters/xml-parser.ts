/**
 * A small, strict XML parser with Python `xml.etree.ElementTree` semantics (elements with `text`, `tail`,
 * `attrib` and children), used by `XMLAdapter` to read LM replies. It accepts elements, attributes, character
 * and predefined entity references, comments, CDATA sections and processing instructions; anything else is
 * "not well-formed" as expat reports it. Error messages follow expat's wording and `line L, column C` positions
 * (1-based lines, 0-based columns).
 *
 * @module
 */

/** An element as ElementTree models it. */
export interface XmlElement {
  /** Tag name. */
  tag: string;
  /** Attributes in document order. */
  attrib: Record<string, string>;
  /** Text before the first child (`null` when there is none, as in ElementTree). */
  text: string | null;
  /** Text after this element's end tag, up to the next sibling or the parent's end (`null` when none). */
  tail: string | null;
  /** Child elements in order. */
  children: XmlElement[];
}

/** A well-formedness error, with expat's message text. */
export class XmlParseError extends Error {
  /** 1-based line of the error. */
  readonly line: number;
  /** 0-based column of the error. */
  readonly column: number;

  constructor(reason: string, line: number, column: number) {
    super(`${reason}: line ${line}, column ${column}`);
    this.name = 'XmlParseError';
    this.line = line;
    this.column = column;
  }
}

const NAME_START =
  /[A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]/u;
const NAME_CHAR =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: combining marks are valid XML name characters on their own.
  /[-.0-9\u00B7\u0300-\u036F\u203F-\u2040A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]/u;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

class Parser {
  private pos = 0;
  private readonly text: string;

  constructor(text: string) {
    // XML parsers normalize line ends before anything else.
    this.text = text.replace(/\r\n?/g, '\n');
  }

  fail(reason: string, at = this.pos): never {
    const before = this.text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - (before.lastIndexOf('\n') + 1);
    throw new XmlParseError(reason, line, column);
  }

  parseDocument(): XmlElement {
    this.skipMisc();
    if (this.pos >= this.text.length) this.fail('no element found');
    if (this.text[this.pos] !== '<') this.fail('syntax error');
    const root = this.parseElement();
    this.skipMisc();
    if (this.pos < this.text.length) this.fail('junk after document element');
    return root;
  }

  private skipMisc(): void {
    for (;;) {
      while (this.pos < this.text.length && /[ \t\n]/.test(this.text[this.pos] ?? '')) this.pos++;
      if (this.text.startsWith('<!--', this.pos)) this.skipComment();
      else if (this.text.startsWith('<?', this.pos)) this.skipProcessingInstruction();
      else return;
    }
  }

  private skipComment(): void {
    const end = this.text.indexOf('-->', this.pos + 4);
    if (end === -1) this.fail('unclosed token');
    this.pos = end + 3;
  }

  private skipProcessingInstruction(): void {
    const end = this.text.indexOf('?>', this.pos + 2);
    if (end === -1) this.fail('unclosed token');
    this.pos = end + 2;
  }

  private parseName(): string {
    const start = this.pos;
    if (!NAME_START.test(this.text[this.pos] ?? '')) this.fail('not well-formed (invalid token)');
    this.pos++;
    while (this.pos < this.text.length && NAME_CHAR.test(this.text[this.pos] ?? '')) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && /[ \t\n]/.test(this.text[this.pos] ?? '')) this.pos++;
    return this.pos > start;
  }

  private parseReference(): string {
    const start = this.pos;
    const end = this.text.indexOf(';', this.pos);
    if (end === -1) this.fail(this.pos + 1 >= this.text.length ? 'unclosed token' : 'not well-formed (invalid token)');
    const body = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    if (body.startsWith('#')) {
      const code = /^#x[0-9a-fA-F]+$/.test(body)
        ? Number.parseInt(body.slice(2), 16)
        : /^#[0-9]+$/.test(body)
          ? Number.parseInt(body.slice(1), 10)
          : Number.NaN;
      const valid =
        code === 0x9 ||
        code === 0xa ||
        code === 0xd ||
        (code >= 0x20 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd) ||
        (code >= 0x10000 && code <= 0x10ffff);
      if (!valid)
        this.fail(
          Number.isNaN(code) ? 'not well-formed (invalid token)' : 'reference to invalid character number',
          start,
        );
      return String.fromCodePoint(code);
    }
    if (!/^[A-Za-z_:][-.\w:]*$/.test(body)) this.fail('not well-formed (invalid token)', start);
    const value = PREDEFINED[body];
    if (value === undefined) this.fail('undefined entity', start);
    return value;
  }

  private parseAttributeValue(): string {
    const quote = this.text[this.pos];
    if (quote !== '"' && quote !== "'") this.fail('not well-formed (invalid token)');
    this.pos++;
    let value = '';
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unclosed token');
      const ch = this.text[this.pos] ?? '';
      if (ch === quote) {
        this.pos++;
        return value;
      }
      if (ch === '<') this.fail('not well-formed (invalid token)');
      if (ch === '&') {
        value += this.parseReference();
        continue;
      }
      // Attribute-value normalization turns literal whitespace characters into spaces.
      value += ch === '\n' || ch === '\t' ? ' ' : ch;
      this.pos++;
    }
  }

  private parseElement(): XmlElement {
    const open = this.pos;
    this.pos++; // '<'
    const tag = this.parseName();
    const element: XmlElement = { tag, attrib: {}, text: null, tail: null, children: [] };
    for (;;) {
      const spaced = this.skipSpace();
      if (this.pos >= this.text.length) this.fail('unclosed token', open);
      if (this.text.startsWith('/>', this.pos)) {
        this.pos += 2;
        return element;
      }
      if (this.text[this.pos] === '>') {
        this.pos++;
        break;
      }
      if (!spaced) this.fail('not well-formed (invalid token)');
      const nameAt = this.pos;
      const name = this.parseName();
      this.skipSpace();
      if (this.text[this.pos] !== '=') this.fail('not well-formed (invalid token)');
      this.pos++;
      this.skipSpace();
      const value = this.parseAttributeValue();
      if (Object.hasOwn(element.attrib, name)) this.fail('duplicate attribute', nameAt);
      element.attrib[name] = value;
    }
    this.parseContent(element);
    return element;
  }

  private parseContent(element: XmlElement): void {
    let buffer = '';
    let last: XmlElement | null = null;
    const flush = () => {
      if (buffer === '') return;
      if (last) last.tail = (last.tail ?? '') + buffer;
      else element.text = (element.text ?? '') + buffer;
      buffer = '';
    };
    for (;;) {
      if (this.pos >= this.text.length) this.fail('no element found');
      const ch = this.text[this.pos] ?? '';
      if (ch === '<') {
        if (this.text.startsWith('</', this.pos)) {
          flush();
          const at = this.pos;
          this.pos += 2;
          const name = this.parseName();
          this.skipSpace();
          if (this.text[this.pos] !== '>')
            this.fail(this.pos >= this.text.length ? 'no element found' : 'not well-formed (invalid token)');
          this.pos++;
          if (name !== element.tag) this.fail('mismatched tag', at);
          return;
        }
        if (this.text.startsWith('<!--', this.pos)) {
          flush();
          this.skipComment();
          continue;
        }
        if (this.text.startsWith('<![CDATA[', this.pos)) {
          const end = this.text.indexOf(']]>', this.pos + 9);
          if (end === -1) this.fail('unclosed CDATA section');
          buffer += this.text.slice(this.pos + 9, end);
          this.pos = end + 3;
          continue;
        }
        if (this.text.startsWith('<?', this.pos)) {
          flush();
          this.skipProcessingInstruction();
          continue;
        }
        flush();
        const child = this.parseElement();
        element.children.push(child);
        last = child;
        continue;
      }
      if (ch === '&') {
        buffer += this.parseReference();
        continue;
      }
      buffer += ch;
      this.pos++;
    }
  }
}

/**
 * Parses a complete XML document into its root element.
 *
 * @throws {XmlParseError} with expat's message (e.g. `mismatched tag: line 1, column 30`).
 */
export function parseXml(text: string): XmlElement {
  return new Parser(text).parseDocument();
}

function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function escapeAttribute(text: string): string {
  return escapeText(text)
    .replaceAll('"', '&quot;')
    .replaceAll('\r', '&#13;')
    .replaceAll('\n', '&#10;')
    .replaceAll('\t', '&#09;');
}

/**
 * `ET.tostring(element, encoding="unicode")`: the element, its content and its tail; empty elements as
 * `<tag />`.
 */
export function xmlToString(element: XmlElement): string {
  const attrs = Object.entries(element.attrib)
    .map(([k, v]) => ` ${k}="${escapeAttribute(v)}"`)
    .join('');
  let out: string;
  if (element.text === null && element.children.length === 0) {
    out = `<${element.tag}${attrs} />`;
  } else {
    out = `<${element.tag}${attrs}>${escapeText(element.text ?? '')}${element.children.map(xmlToString).join('')}</${element.tag}>`;
  }
  return out + escapeText(element.tail ?? '');
}
