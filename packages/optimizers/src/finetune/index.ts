/**
 * BootstrapFinetune (DSPy's `dspy.BootstrapFinetune`): fine-tunes a program's LMs on its teacher's successful
 * traces through core's `Finetuner`, plus the traced program run it is built on.
 *
 * @module
 */
export {
  BootstrapFinetune,
  type BootstrapFinetuneCompileOptions,
  type BootstrapFinetuneOptions,
  type BootstrapFinetuneRunOptions,
  type FinetuneJobProgressEvent,
  type PerLM,
} from './bootstrap-finetune.ts';
export { type TracedRun, type TracedStep, traceProgramRun } from './trace-run.ts';
