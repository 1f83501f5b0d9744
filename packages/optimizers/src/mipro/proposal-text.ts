import {
  type Demo,
  Example,
  type Module,
  Predict,
  type Predict as PredictType,
  pythonStr,
  type Signature,
} from '@dspy-ts/core';

// Python's `\w` (letters, digits, marks, connector punctuation) plus `'` and `-`.
const WORD = "[\\p{L}\\p{N}\\p{M}\\p{Pc}'\\-]";
const LABEL_PREFIX = new RegExp(`^[*\\s]*((${WORD}+\\s+){0,4}${WORD}+):\\s*`, 'u');

/**
 * DSPy's `strip_prefix`: removes a leading label of up to five words and a colon (`PROPOSED INSTRUCTION: …`,
 * `**Summary:** …`) that models like to repeat, then surrounding double quotes.
 */
export function stripPrefix(text: string): string {
  return text.replace(LABEL_PREFIX, '').replace(/^"+|"+$/g, '');
}

function demoKeys(demo: Demo): string[] {
  return demo instanceof Example ? demo.keys() : Object.keys(demo as Record<string, unknown>);
}

function demoValue(demo: Demo, key: string): unknown {
  return demo instanceof Example ? demo.get(key) : (demo as Record<string, unknown>)[key];
}

/** True for demos bootstrapped from a successful teacher run (`augmented: true` key present, as DSPy checks). */
export function isAugmented(demo: Demo): boolean {
  return demoKeys(demo).includes('augmented');
}

/**
 * DSPy's `create_example_string`: one line per signature field, `"<prefix> <value>"` (e.g. `Question: q1`), with
 * Python's `str` of the value (`None` when the demo lacks the field).
 */
export function createExampleString(signature: Signature, demo: Demo): string {
  return signature.fields
    .map((field) => `${field.prefix} ${pythonStr(demoValue(demo, field.name) ?? null)}`)
    .join('\n');
}

/**
 * DSPy's `order_input_keys_in_string`: sorts the keys inside every `input_keys={…}` of an example repr, so the
 * dataset descriptor's prompt does not depend on the order input keys were declared in.
 */
export function orderInputKeysInString(text: string): string {
  return text.replace(/input_keys=\{([^}]+)\}/g, (_, keys: string) => {
    const sorted = keys
      .split(',')
      .map((key) => key.trim())
      .sort();
    return `input_keys={${sorted.join(', ')}}`;
  });
}

/** Python's `repr` of a list of examples (`[Example({...}) (input_keys={...}), ...]`) with ordered input keys. */
export function examplesRepr(examples: readonly Example[]): string {
  return orderInputKeysInString(`[${examples.map((example) => example.toString()).join(', ')}]`);
}

/** DSPy's module line for the proposer: `Predict(question, context) -> answer`. */
export function moduleCode(predictor: PredictType): string {
  const inputs = predictor.signature.inputFields.map((field) => field.name);
  const outputs = predictor.signature.outputFields.map((field) => field.name);
  return `${predictor.constructor.name}(${inputs.join(', ')}) -> ${outputs.join(', ')}`;
}

function signatureSource(name: string, predictor: PredictType): string {
  const describe = (fields: Signature['inputFields']) =>
    fields
      .map((field) => {
        const desc = field.desc === `\${${field.name}}` ? '' : `: ${field.desc}`;
        return `        ${field.name}${desc}`;
      })
      .join('\n');
  const signature = predictor.signature;
  return [
    `${name} = ${predictor.constructor.name}("${signature.toString()}")`,
    `    instructions: ${signature.instructions}`,
    '    inputs:',
    describe(signature.inputFields),
    '    outputs:',
    describe(signature.outputFields),
  ].join('\n');
}

/**
 * The program "source" shown to the proposer (DSPy's `get_dspy_source_code`): every predictor's signature as
 * pseudo-code, then the program's class source — omitted for a bare `Predict` or `ChainOfThought`, whose source
 * says nothing about the task. DSPy prints Python source; here the class is printed as JavaScript.
 */
export function programSourceCode(program: Module<any, any, any>): string {
  const header = program.namedPredictors().map(([name, predictor]) => signatureSource(name, predictor));
  const className = program.constructor.name;
  const base = program instanceof Predict || className === 'ChainOfThought' ? '' : String(program.constructor);
  return `${header.join('\n\n')}\n\n${base}`;
}
