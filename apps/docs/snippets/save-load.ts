import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainOfThought } from '@dspy-ts/core';

// #region load
// The same program shape as in Python: dspy.ChainOfThought("question -> answer").
const program = new ChainOfThought('question -> answer');

// A file written by `program.save("program.json")` in Python DSPy 3.3.1.
await program.load(fileURLToPath(new URL('./dspy-program.json', import.meta.url)));

const [[name, predictor]] = program.namedPredictors();
console.log(name); // 'predict' — the key in the JSON file
console.log(predictor.demos.length); // 2 demos, as plain objects
console.log(predictor.signature.instructions); // the optimized instructions
// #endregion load

// #region save
// Saving writes the same layout back (Python's `program.load("program.json")` reads it).
const dir = await mkdtemp(join(tmpdir(), 'dspy-ts-'));
await program.save(join(dir, 'program.json'));

// Or work with the state object directly:
const state = program.dumpState(); // { predict: { traces, train, demos, signature, lm } }
new ChainOfThought('question -> answer').loadState(state);
// #endregion save
