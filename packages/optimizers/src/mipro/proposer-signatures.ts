import { type FieldInit, Signature } from '@dspy-ts/core';

/**
 * DSPy's prompting tips (`dspy.propose.grounded_proposer.TIPS`): one is drawn at random for every proposed
 * instruction; `none` (the empty tip) leaves the `tip` field out of the prompt.
 */
export const TIPS = Object.freeze({
  none: '',
  creative: "Don't be afraid to be creative when creating the new instruction!",
  simple: 'Keep the instruction clear and concise.',
  description: 'Make sure your instruction is very informative and descriptive.',
  high_stakes: 'The instruction should include a high stakes scenario in which the LM must solve the task!',
  persona: 'Include a persona that is relevant to the task in the instruction (ie. "You are a ...")',
} as const);

/** The name of a prompting tip in {@link TIPS}. */
export type TipName = keyof typeof TIPS;

/** DSPy's `DatasetDescriptor`: observations about a first batch of training examples. */
export const DatasetDescriptor = Signature.fromFields(
  {
    examples: { kind: 'input', desc: 'Sample data points from the dataset' },
    observations: { kind: 'output', desc: 'Somethings that holds true for most or all of the data you observed' },
  },
  'Given several examples from a dataset please write observations about trends that hold for most or all of the ' +
    'samples. Some areas you may consider in your observations: topics, content, syntax, conciceness, etc. It will ' +
    "be useful to make an educated guess as to the nature of the task this dataset will enable. Don't be afraid to " +
    'be creative',
);

/** DSPy's `DatasetDescriptorWithPriorObservations`: more observations on later batches, or `COMPLETE`. */
export const DatasetDescriptorWithPriorObservations = Signature.fromFields(
  {
    examples: { kind: 'input', desc: 'Sample data points from the dataset' },
    prior_observations: { kind: 'input', desc: 'Some prior observations I made about the data' },
    observations: {
      kind: 'output',
      desc: 'Somethings that holds true for most or all of the data you observed or COMPLETE if you have nothing to add',
    },
  },
  'Given several examples from a dataset please write observations about trends that hold for most or all of the ' +
    'samples. I will also provide you with a few observations I have already made.  Please add your own ' +
    "observations or if you feel the observations are comprehensive say 'COMPLETE' Some areas you may consider in " +
    'your observations: topics, content, syntax, conciceness, etc. It will be useful to make an educated guess as ' +
    "to the nature of the task this dataset will enable. Don't be afraid to be creative",
);

/** DSPy's `ObservationSummarizer`: the observations condensed into the dataset summary. */
export const ObservationSummarizer = Signature.fromFields(
  {
    observations: { kind: 'input', desc: 'Observations I have made about my dataset' },
    summary: {
      kind: 'output',
      desc: 'Two to Three sentence summary of only the most significant highlights of my observations',
    },
  },
  'Given a series of observations I have made about my dataset, please summarize them into a brief 2-3 sentence ' +
    'summary which highlights only the most important details.',
);

const PROGRAM_CODE_DESC = 'Pseudocode for a language model program designed to solve a particular task.';

/** DSPy's `DescribeProgram`: what task the program solves and how. */
export const DescribeProgram = Signature.fromFields(
  {
    program_code: { kind: 'input', desc: PROGRAM_CODE_DESC, prefix: 'PROGRAM CODE:' },
    program_example: { kind: 'input', desc: 'An example of the program in use.', prefix: 'EXAMPLE OF PROGRAM IN USE:' },
    program_description: {
      kind: 'output',
      desc: 'Describe what task the program is designed to solve, and how it goes about solving this task.',
      prefix: 'SUMMARY OF PROGRAM ABOVE:',
    },
  },
  'Below is some pseudo-code for a pipeline that solves tasks with calls to language models. Please describe what ' +
    'type of task this program appears to be designed to solve, and how it appears to work.',
);

/** DSPy's `DescribeModule`: the role of one predictor in the program. */
export const DescribeModule = Signature.fromFields(
  {
    program_code: { kind: 'input', desc: PROGRAM_CODE_DESC, prefix: 'PROGRAM CODE:' },
    program_example: { kind: 'input', desc: 'An example of the program in use.', prefix: 'EXAMPLE OF PROGRAM IN USE:' },
    program_description: {
      kind: 'input',
      desc: 'Summary of the task the program is designed to solve, and how it goes about solving it.',
      prefix: 'SUMMARY OF PROGRAM ABOVE:',
    },
    module: { kind: 'input', desc: 'The module in the program that we want to describe.', prefix: 'MODULE:' },
    module_description: {
      kind: 'output',
      desc: "Description of the module's role in the broader program.",
      prefix: 'MODULE DESCRIPTION:',
    },
  },
  'Below is some pseudo-code for a pipeline that solves tasks with calls to language models. Please describe the ' +
    'purpose of one of the specified module in this pipeline.',
);

/** Which optional inputs {@link generateInstructionSignature} includes. */
export interface InstructionSignatureFlags {
  /** `dataset_description`. */
  useDatasetSummary: boolean;
  /** `program_code`, `program_description`, `module`, `module_description`. */
  programAware: boolean;
  /** `previous_instructions`. */
  useInstructHistory: boolean;
  /** `tip`. */
  useTip: boolean;
}

/**
 * DSPy's `GenerateSingleModuleInstruction` for the given flags (its fields depend on what the proposer knows), with
 * DSPy's instructions, field order and descriptions. `task_demos` and `basic_instruction` are always present.
 */
export function generateInstructionSignature(flags: InstructionSignatureFlags): Signature {
  const fields: Record<string, FieldInit> = {};
  if (flags.useDatasetSummary) {
    fields.dataset_description = {
      kind: 'input',
      desc: 'A description of the dataset that we are using.',
      prefix: 'DATASET SUMMARY:',
    };
  }
  if (flags.programAware) {
    fields.program_code = {
      kind: 'input',
      desc: 'Language model program designed to solve a particular task.',
      prefix: 'PROGRAM CODE:',
    };
    fields.program_description = {
      kind: 'input',
      desc: 'Summary of the task the program is designed to solve, and how it goes about solving it.',
      prefix: 'PROGRAM DESCRIPTION:',
    };
    fields.module = { kind: 'input', desc: 'The module to create an instruction for.', prefix: 'MODULE:' };
    fields.module_description = {
      kind: 'input',
      desc: 'Description of the module to create an instruction for.',
      prefix: 'MODULE DESCRIPTION:',
    };
  }
  fields.task_demos = { kind: 'input', desc: 'Example inputs/outputs of our module.', prefix: 'TASK DEMO(S):' };
  if (flags.useInstructHistory) {
    fields.previous_instructions = {
      kind: 'input',
      desc: "Previous instructions we've attempted, along with their associated scores.",
      prefix: 'PREVIOUS INSTRUCTIONS:',
    };
  }
  fields.basic_instruction = { kind: 'input', desc: 'Basic instruction.', prefix: 'BASIC INSTRUCTION:' };
  if (flags.useTip) {
    fields.tip = {
      kind: 'input',
      desc: 'A suggestion for how to go about generating the new instruction.',
      prefix: 'TIP:',
    };
  }
  fields.proposed_instruction = {
    kind: 'output',
    desc: 'Propose an instruction that will be used to prompt a Language Model to perform this task.',
    prefix: 'PROPOSED INSTRUCTION:',
  };
  return Signature.fromFields(
    fields,
    'Use the information below to learn about a task that we are trying to solve using calls to an LM, then ' +
      'generate a new instruction that will be used to prompt a Language Model to better solve the task.',
  );
}
