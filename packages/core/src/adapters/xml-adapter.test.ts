import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Signature } from '../signature/signature.ts';
import { XMLAdapter } from './xml-adapter.ts';
import { parseXml, xmlToString } from './xml-parser.ts';

const adapter = new XMLAdapter();

describe('XMLAdapter.format', () => {
  it('renders demos, nested list outputs and escaped strings', () => {
    const sig = Signature.parse('question -> answer, tags: list[str], score: float');
    const messages = adapter.format(sig, [{ question: 'Q1', answer: 'a < b & c', tags: ['x', 'y'], score: 1 }], {
      question: 'Q2',
    });
    expect(messages[1]?.content).toBe('<question>\nQ1\n</question>');
    expect(messages[2]?.content).toBe(
      '<answer>\na &lt; b &amp; c\n</answer>\n\n<tags><item>x</item><item>y</item></tags>\n\n<score>\n1.0\n</score>',
    );
    expect(messages[3]?.content).toBe(
      '<question>\nQ2\n</question>\n\nRespond with the corresponding output fields wrapped in XML tags `<answer>`, then `<tags>`, then `<score>`. Use this nested XML structure: <tags><item>...</item></tags>',
    );
    expect(messages[0]?.content).toContain(
      '<answer>\n{answer}\n</answer>\n\n<tags><item>...</item></tags>\n\n<score>\n{score}        # note: the value you produce must be a single float value\n</score>\nIn adhering',
    );
  });

  it('renders model skeletons from the JSON schema', () => {
    const Order = z.object({
      id: z.number().int(),
      address: z.object({ city: z.string() }),
      labels: z.array(z.string()),
    });
    const sig = Signature.parse('q -> order: Order', undefined, { types: { Order } });
    expect(adapter.userMessageOutputRequirements(sig)).toBe(
      'Respond with the corresponding output fields wrapped in XML tags `<order>`. Use this nested XML structure: <order><id>...</id><address><city>...</city></address><labels><item>...</item></labels></order>',
    );
    expect(
      adapter.parse(
        sig,
        '<order><id>7</id><address><city>Paris</city></address><labels><item>new</item></labels></order>',
      ),
    ).toEqual({ order: { id: 7, address: { city: 'Paris' }, labels: ['new'] } });
  });
});

describe('XMLAdapter.parse', () => {
  it('parses scalars, lists, dicts and entities', () => {
    const sig = Signature.parse('q -> answer, n: int, tags: list[str], scores: dict[str, float]');
    const completion =
      'Thoughts first.\n<answer>\n  1 &lt; 2 &amp; more\n</answer>\n<n>3</n>\n<tags><item>a</item><item>b</item></tags>\n<scores><x>1.5</x><entry key="two words">2</entry></scores>';
    expect(adapter.parse(sig, completion)).toEqual({
      answer: '1 < 2 & more',
      n: 3,
      tags: ['a', 'b'],
      scores: { x: 1.5, 'two words': 2 },
    });
  });

  it('accepts JSON inside a list tag and keeps inner markup of string fields', () => {
    const sig = Signature.parse('q -> answer, tags: list[str]');
    expect(adapter.parse(sig, '<answer>use <b>bold</b> text</answer><tags>["a", "b"]</tags>')).toEqual({
      answer: 'use <b>bold</b> text',
      tags: ['a', 'b'],
    });
  });

  it('reports malformed XML like ElementTree', () => {
    const sig = Signature.parse('q -> answer');
    expect(() => adapter.parse(sig, '<answer>x</wrong>')).toThrow(
      /^Failed to parse XML: mismatched tag: line 1, column 20\n\nAdapter XMLAdapter failed/,
    );
  });

  it('reports missing fields', () => {
    const sig = Signature.parse('q -> answer, extra');
    expect(() => adapter.parse(sig, '<answer>a</answer>')).toThrow(
      'Actual output fields parsed from the LM response: [answer] \n\n',
    );
  });
});

describe('parseXml', () => {
  it('models text and tails like ElementTree and serializes back', () => {
    const root = parseXml('<r>a<b x="1 &amp; 2">c</b>d<e/><![CDATA[<raw>]]></r>');
    expect(root.text).toBe('a');
    expect(root.children[0]?.tail).toBe('d');
    expect(root.children[1]?.tail).toBe('<raw>');
    expect(xmlToString(root.children[0]!)).toBe('<b x="1 &amp; 2">c</b>d');
    expect(xmlToString(root.children[1]!)).toBe('<e />&lt;raw&gt;');
  });

  it.each([
    ['<r>1 < 2</r>', 'not well-formed (invalid token): line 1, column 6'],
    ['<r>&nbsp;</r>', 'undefined entity: line 1, column 3'],
    ['<r>\n<a></r>', 'mismatched tag: line 2, column 3'],
    ['<r>', 'no element found: line 1, column 3'],
  ])('rejects %j', (text, message) => {
    expect(() => parseXml(text)).toThrow(message);
  });
});
