import { describe, expect, it } from 'vitest';
import { AdapterParseError } from '../errors.ts';
import { History } from '../primitives/history.ts';
import { Signature } from '../signature/signature.ts';
import { ChatAdapter } from './chat-adapter.ts';

const adapter = new ChatAdapter();

describe('ChatAdapter.format', () => {
  it('renders demos with typed outputs exactly as DSPy (test_chat_adapter_format_exact_messages_with_demo_and_typed_outputs)', () => {
    const sig = Signature.parse('question -> answers: list[str], scores: list[float]');
    const messages = adapter.format(sig, [{ question: 'Q1', answers: ['A1', 'A2'], scores: [0.1, 0.9] }], {
      question: 'Q2',
    });
    expect(messages.slice(1)).toEqual([
      { role: 'user', content: '[[ ## question ## ]]\nQ1' },
      {
        role: 'assistant',
        content: '[[ ## answers ## ]]\n["A1", "A2"]\n\n[[ ## scores ## ]]\n[0.1, 0.9]\n\n[[ ## completed ## ]]\n',
      },
      {
        role: 'user',
        content:
          '[[ ## question ## ]]\nQ2\n\nRespond with the corresponding output fields, starting with the field `[[ ## answers ## ]]` (must be formatted as a valid Python list[str]), then `[[ ## scores ## ]]` (must be formatted as a valid Python list[float]), and then ending with the marker for `[[ ## completed ## ]]`.',
      },
    ]);
    const system = messages[0]?.content as string;
    expect(system).toContain('\n1. `answers` (list[str]): \n2. `scores` (list[float]):\n');
    expect(system).toContain(
      '{answers}        # note: the value you produce must adhere to the JSON schema: {"type": "array", "items": {"type": "string"}}',
    );
  });

  it('prints integral floats as Python floats in float-typed outputs', () => {
    const sig = Signature.parse('question -> score: float, count: int');
    const content = adapter.formatAssistantMessageContent(sig, { score: 1, count: 2 });
    expect(content).toBe('[[ ## score ## ]]\n1.0\n\n[[ ## count ## ]]\n2\n\n[[ ## completed ## ]]\n');
  });

  it('renders list values of str inputs as numbered «» lists', () => {
    const sig = Signature.parse('context, question -> answer');
    const render = (context: unknown) => adapter.formatUserMessageContent(sig, { context, question: 'q' });
    expect(render(['alpha', 'beta'])).toBe('[[ ## context ## ]]\n[1] «alpha»\n[2] «beta»\n\n[[ ## question ## ]]\nq');
    expect(render(['alpha'])).toBe('[[ ## context ## ]]\n«alpha»\n\n[[ ## question ## ]]\nq');
    expect(render([])).toBe('[[ ## context ## ]]\nN/A\n\n[[ ## question ## ]]\nq');
    expect(render(['line1\nline2', 'x'])).toBe(
      '[[ ## context ## ]]\n[1] «««\n    line1\n    line2\n»»»\n[2] «x»\n\n[[ ## question ## ]]\nq',
    );
  });

  it('renders dict, bool and None inputs like Python', () => {
    const sig = Signature.parse('data: dict[str, Any], flag: bool, extra -> answer');
    expect(adapter.formatUserMessageContent(sig, { data: { name: 'Ada', n: [1, 2] }, flag: true, extra: null })).toBe(
      '[[ ## data ## ]]\n{"name": "Ada", "n": [1, 2]}\n\n[[ ## flag ## ]]\nTrue\n\n[[ ## extra ## ]]\nNone',
    );
  });

  it('adds Literal and bool notes and requirements', () => {
    const sig = Signature.parse("question -> answer: Literal['yes', 'no'], ok: bool");
    const [system, user] = adapter.format(sig, [], { question: 'q' });
    expect(system?.content).toContain(
      '{answer}        # note: the value you produce must exactly match (no extra characters) one of: yes; no\n\n[[ ## ok ## ]]\n{ok}        # note: the value you produce must be True or False',
    );
    expect(user?.content).toContain(
      "`[[ ## answer ## ]]` (must be formatted as a valid Python Literal['yes', 'no']), then `[[ ## ok ## ]]` (must be formatted as a valid Python bool)",
    );
  });

  it('renders History inputs as earlier turns', () => {
    const sig = Signature.parse('history: History, question -> answer');
    const history = new History({ messages: [{ question: 'Q0', answer: 'A0' }, { answer: 'only output' }] });
    const messages = adapter.format(sig, [], { history, question: 'Q1' });
    expect(messages[0]?.content).toContain('1. `history` (History): \n2. `question` (str):\n');
    expect(messages.slice(1)).toEqual([
      { role: 'user', content: '[[ ## question ## ]]\nQ0' },
      { role: 'assistant', content: '[[ ## answer ## ]]\nA0\n\n[[ ## completed ## ]]\n' },
      { role: 'assistant', content: '[[ ## answer ## ]]\nonly output\n\n[[ ## completed ## ]]\n' },
      {
        role: 'user',
        content:
          '[[ ## question ## ]]\nQ1\n\nRespond with the corresponding output fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.',
      },
    ]);
  });

  it('puts incomplete demos first, drops demos without inputs or outputs, keeps the missing-field trailing space', () => {
    const sig = Signature.parse('question -> answer, note');
    const messages = adapter.format(
      sig,
      [{ question: 'full', answer: 'a', note: 'n' }, { question: 'partial', note: 'n2' }, { question: 'no outputs' }],
      { question: 'now' },
    );
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(messages[2]?.content).toBe(
      '[[ ## answer ## ]]\nNot supplied for this particular example. \n\n[[ ## note ## ]]\nn2\n\n[[ ## completed ## ]]\n',
    );
    expect(messages[3]?.content).toBe('[[ ## question ## ]]\nfull');
  });

  it('indents multi-line instructions under the objective', () => {
    const sig = Signature.parse('a -> b', '  Line one.\n  Line two.');
    expect(adapter.formatTaskDescription(sig)).toBe(
      'In adhering to this structure, your objective is: \n        Line one.\n        Line two.',
    );
  });

  it('builds fine-tuning records', () => {
    const sig = Signature.parse('question -> answer');
    const record = adapter.formatFinetuneData(sig, [], { question: 'q' }, { answer: 'a' });
    expect(record.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(record.messages[2]?.content).toBe('[[ ## answer ## ]]\na\n\n[[ ## completed ## ]]\n');
  });
});

describe('ChatAdapter.parse', () => {
  const sig = Signature.parse('question -> answer, score: int');

  it('reads sections, inline content, first occurrence, ignoring unknown headers and preamble', () => {
    const completion =
      'Sure!\n[[ ## answer ## ]] Paris\nis the capital\n[[ ## other ## ]]\nx\n[[ ## score ## ]]\n 42 \n[[ ## answer ## ]]\nLyon';
    expect(adapter.parse(sig, completion)).toEqual({ answer: 'Paris\nis the capital', score: 42 });
  });

  it('keeps DSPy’s offset quirk for indented headers (the rest of the line is sliced from the unstripped line)', () => {
    const text = Signature.parse('q -> answer');
    expect(adapter.parse(text, '  [[ ## answer ## ]]\nParis')).toEqual({ answer: ']]\nParis' });
  });

  it('does not need the completed marker', () => {
    expect(adapter.parse(sig, '[[ ## answer ## ]]\na\n\n[[ ## score ## ]]\n1\n\n[[ ## completed ## ]]')).toEqual({
      answer: 'a',
      score: 1,
    });
  });

  it('reports missing outputs with DSPy’s exact message', () => {
    const completion = '[[ ## answer ## ]]\nParis';
    let error: unknown;
    try {
      adapter.parse(sig, completion);
    } catch (e) {
      error = e;
    }
    expect(AdapterParseError.isInstance(error)).toBe(true);
    expect((error as AdapterParseError).message).toBe(
      'Adapter ChatAdapter failed to parse the LM response. \n\nLM Response: [[ ## answer ## ]]\nParis \n\n' +
        'Expected to find output fields in the LM response: [answer, score] \n\n' +
        'Actual output fields parsed from the LM response: [answer] \n\n',
    );
    expect((error as AdapterParseError).parsedResult).toEqual({ answer: 'Paris' });
  });

  it('reports values that do not fit their type', () => {
    expect(() => adapter.parse(sig, '[[ ## answer ## ]]\na\n[[ ## score ## ]]\nmany')).toThrow(
      /^Failed to parse field score with value many from the LM response\. Error message: .+\n\nAdapter ChatAdapter failed to parse the LM response\. /s,
    );
  });

  it('parses lenient JSON, Python literals and digit separators', () => {
    const typed = Signature.parse(
      'q -> items: list[int], flags: dict[str, bool], x: float, y: Optional[int], ok: bool',
    );
    const completion =
      "[[ ## items ## ]]\n[1, 2, 3,]\n[[ ## flags ## ]]\n{'a': True, 'b': False}\n[[ ## x ## ]]\n123_456.789\n[[ ## y ## ]]\nNone\n[[ ## ok ## ]]\nfalse";
    expect(adapter.parse(typed, completion)).toEqual({
      items: [1, 2, 3],
      flags: { a: true, b: false },
      x: 123456.789,
      y: null,
      ok: false,
    });
  });

  it('unwraps Literal answers and rejects others', () => {
    const lit = Signature.parse("q -> answer: Literal['yes', 'no']");
    expect(adapter.parse(lit, "[[ ## answer ## ]]\nLiteral['yes']")).toEqual({ answer: 'yes' });
    expect(adapter.parse(lit, '[[ ## answer ## ]]\n"no"')).toEqual({ answer: 'no' });
    expect(() => adapter.parse(lit, '[[ ## answer ## ]]\nmaybe')).toThrow(
      "Error message: 'maybe' is not one of ('yes', 'no')",
    );
  });

  it('fills optional outputs that are missing', () => {
    const opt = Signature.parse('q -> answer, note: Optional[str]');
    expect(adapter.parse(opt, '[[ ## answer ## ]]\na')).toEqual({ answer: 'a', note: null });
  });
});
