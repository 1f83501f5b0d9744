import { Signature } from '@dspy-ts/core';

const PROPOSED_INSTRUCTION_DESC = 'The improved instructions for the language model';
const PROPOSED_PREFIX_DESC = 'The string at the end of the prompt, which will help the model start solving the task';

/** DSPy's `BasicGenerateInstruction` (COPRO's first proposals), with its exact instructions and descriptions. */
export const BasicGenerateInstruction = Signature.fromFields(
  {
    basic_instruction: { kind: 'input', desc: 'The initial instructions before optimization' },
    proposed_instruction: { kind: 'output', desc: PROPOSED_INSTRUCTION_DESC },
    proposed_prefix_for_output_field: { kind: 'output', desc: PROPOSED_PREFIX_DESC },
  },
  'You are an instruction optimizer for large language models. I will give you a ``signature`` of fields (inputs ' +
    'and outputs) in English. Your task is to propose an instruction that will lead a good language model to ' +
    "perform the task well. Don't be afraid to be creative.",
);

/** DSPy's `GenerateInstructionGivenAttempts` (COPRO's later proposals), with its exact instructions. */
export const GenerateInstructionGivenAttempts = Signature.fromFields(
  {
    attempted_instructions: { kind: 'input' },
    proposed_instruction: { kind: 'output', desc: PROPOSED_INSTRUCTION_DESC },
    proposed_prefix_for_output_field: { kind: 'output', desc: PROPOSED_PREFIX_DESC },
  },
  "You are an instruction optimizer for large language models. I will give some task instructions I've tried, " +
    'along with their corresponding validation scores. The instructions are arranged in increasing order based on ' +
    'their scores, where higher scores indicate better quality.\n\n' +
    'Your task is to propose a new instruction that will lead a good language model to perform the task even ' +
    "better. Don't be afraid to be creative.",
);
