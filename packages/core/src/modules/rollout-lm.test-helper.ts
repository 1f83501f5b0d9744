import type { LanguageModelV1, LMRequest } from '../lm/spec.ts';
import { ScriptedLM, type ScriptedLMOptions, type ScriptedReply } from '../testing/scripted-lm.ts';

/** A scripted LM whose `withDefaults` copies share one request log, as real LMs share caches and limits. */
export class RolloutLM extends ScriptedLM {
  constructor(
    private readonly reply: (request: LMRequest, index: number) => ScriptedReply,
    options: ScriptedLMOptions = {},
    readonly log: LMRequest[] = [],
  ) {
    super((request) => {
      log.push(request);
      return reply(request, log.length - 1);
    }, options);
  }

  withDefaults(defaults: NonNullable<LanguageModelV1['defaults']>): RolloutLM {
    return new RolloutLM(this.reply, { defaults: { ...this.defaults, ...defaults } }, this.log);
  }
}
