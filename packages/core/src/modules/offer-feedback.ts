import { createField, Signature } from '../signature/signature.ts';

/**
 * DSPy's `OfferFeedback` signature, used by `Refine` to ask for per-module advice after an attempt scored below
 * the threshold.
 */
export const OfferFeedback: Signature = new Signature(
  [
    createField('program_code', { kind: 'input', type: 'str', desc: 'The code of the program that we are analyzing' }),
    createField('modules_defn', {
      kind: 'input',
      type: 'str',
      desc: 'The definition of each module in the program, including its I/O',
    }),
    createField('program_inputs', {
      kind: 'input',
      type: 'str',
      desc: 'The inputs to the program that we are analyzing',
    }),
    createField('program_trajectory', {
      kind: 'input',
      type: 'str',
      desc: "The trajectory of the program's execution, showing each module's I/O",
    }),
    createField('program_outputs', {
      kind: 'input',
      type: 'str',
      desc: 'The outputs of the program that we are analyzing',
    }),
    createField('reward_code', {
      kind: 'input',
      type: 'str',
      desc: 'The code of the reward function that we are analyzing',
    }),
    createField('target_threshold', {
      kind: 'input',
      type: 'float',
      desc: 'The target threshold for the reward function',
    }),
    createField('reward_value', {
      kind: 'input',
      type: 'float',
      desc: "The reward value assigned to the program's outputs",
    }),
    createField('module_names', {
      kind: 'input',
      type: 'list[str]',
      desc: 'The names of the modules in the program, for which we seek advice',
    }),
    createField('discussion', {
      kind: 'output',
      type: 'str',
      desc: 'Discussing blame of where each module went wrong, if it did',
    }),
    createField('advice', {
      kind: 'output',
      type: 'dict[str, str]',
      desc:
        'For each module, describe very concretely, in this order: the specific scenarios in which it has made ' +
        'mistakes in the past and what each mistake was, followed by what it should do differently in that kind of' +
        'scenario in the future. If the module is not to blame, write N/A.',
    }),
  ],
  'In the discussion, assign blame to each module that contributed to the final reward being below the threshold, if\n' +
    'any. Then, prescribe concrete advice of how the module should act on its future input when we retry the process, if\n' +
    'it were to receive the same or similar inputs. If a module is not to blame, the advice should be N/A.\n' +
    'The module will not see its own history, so it needs to rely on entirely concrete and actionable advice from you\n' +
    'to avoid the same mistake on the same or similar inputs.',
);
