import type { ProviderV3, ProviderV4 } from '@ai-sdk/provider';
import { ConfigurationError } from '@dspy-ts/core';
import { createProviderRegistry } from 'ai';
import { type AISDKLM, createAISDKLM, type FromAISDKOptions } from './from-ai-sdk.ts';

/** An AI SDK provider (V4 or V3), e.g. `openai` from `@ai-sdk/openai` or `createOpenAICompatible({ … })`. */
export type AISDKProvider = ProviderV4 | ProviderV3;

/** Where the default instance of each well-known provider lives: package name and export name. */
export const KNOWN_PROVIDERS: Readonly<Record<string, { packageName: string; exportName: string }>> = {
  openai: { packageName: '@ai-sdk/openai', exportName: 'openai' },
  azure: { packageName: '@ai-sdk/azure', exportName: 'azure' },
  anthropic: { packageName: '@ai-sdk/anthropic', exportName: 'anthropic' },
  google: { packageName: '@ai-sdk/google', exportName: 'google' },
  vertex: { packageName: '@ai-sdk/google-vertex', exportName: 'vertex' },
  bedrock: { packageName: '@ai-sdk/amazon-bedrock', exportName: 'bedrock' },
  mistral: { packageName: '@ai-sdk/mistral', exportName: 'mistral' },
  groq: { packageName: '@ai-sdk/groq', exportName: 'groq' },
  xai: { packageName: '@ai-sdk/xai', exportName: 'xai' },
  deepseek: { packageName: '@ai-sdk/deepseek', exportName: 'deepseek' },
  cohere: { packageName: '@ai-sdk/cohere', exportName: 'cohere' },
  togetherai: { packageName: '@ai-sdk/togetherai', exportName: 'togetherai' },
  fireworks: { packageName: '@ai-sdk/fireworks', exportName: 'fireworks' },
  perplexity: { packageName: '@ai-sdk/perplexity', exportName: 'perplexity' },
  cerebras: { packageName: '@ai-sdk/cerebras', exportName: 'cerebras' },
  deepinfra: { packageName: '@ai-sdk/deepinfra', exportName: 'deepinfra' },
};

/** Provider-name aliases accepted in model strings (LiteLLM spellings). */
const ALIASES: Readonly<Record<string, string>> = {
  gemini: 'google',
  'google-vertex': 'vertex',
  vertex_ai: 'vertex',
  'amazon-bedrock': 'bedrock',
  together_ai: 'togetherai',
  together: 'togetherai',
  fireworks_ai: 'fireworks',
};

const importedProviders = new Map<string, Promise<AISDKProvider>>();

function isMissingModule(error: unknown, packageName: string): boolean {
  const e = error as { code?: string; message?: string };
  return (
    (e.code === 'ERR_MODULE_NOT_FOUND' ||
      e.code === 'MODULE_NOT_FOUND' ||
      /Cannot find (module|package)/i.test(e.message ?? '')) &&
    (e.message ?? '').includes(packageName)
  );
}

/** Splits `provider/model` at the first slash (model ids may contain more slashes) and resolves aliases. */
export function parseModelString(id: string): { provider: string; model: string } {
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1) {
    throw new ConfigurationError(
      `Expected a model string of the form "provider/model" (e.g. "openai/gpt-4o-mini"), got "${id}".`,
    );
  }
  const provider = id.slice(0, slash);
  return { provider: ALIASES[provider] ?? provider, model: id.slice(slash + 1) };
}

/**
 * Imports the default instance of a well-known provider from its package (e.g. `openai` from `@ai-sdk/openai`).
 * Throws a {@link ConfigurationError} naming the package to install when it is missing, or listing the known
 * providers when the name is unknown.
 */
export async function importProvider(name: string): Promise<AISDKProvider> {
  const known = KNOWN_PROVIDERS[name];
  if (!known) {
    throw new ConfigurationError(
      `Unknown provider "${name}". Known providers: ${Object.keys(KNOWN_PROVIDERS).join(', ')}. ` +
        `For another provider pass it explicitly: lm("${name}/model", { providers: { ${name}: createX(...) } }), ` +
        'or wrap a model object with fromAISDK(model).',
    );
  }
  let pending = importedProviders.get(name);
  if (!pending) {
    pending = (async () => {
      let module: Record<string, unknown>;
      try {
        module = (await import(known.packageName)) as Record<string, unknown>;
      } catch (error) {
        if (isMissingModule(error, known.packageName)) {
          throw new ConfigurationError(
            `The "${name}" provider needs the package ${known.packageName}, which is not installed. ` +
              `Install it with: npm install ${known.packageName}`,
            { cause: error },
          );
        }
        throw error;
      }
      const provider = module[known.exportName];
      if (typeof provider !== 'function' && (typeof provider !== 'object' || provider === null)) {
        throw new ConfigurationError(
          `${known.packageName} does not export "${known.exportName}"; is an AI SDK v5 or newer version installed?`,
        );
      }
      return provider as AISDKProvider;
    })();
    importedProviders.set(name, pending);
    // A failed import is not remembered, so installing the package fixes the next call without a restart.
    pending.catch(() => importedProviders.delete(name));
  }
  return pending;
}

/**
 * An AI SDK provider registry (`createProviderRegistry`) holding `providers` plus the installed default instances of
 * the well-known providers named in `names`.
 */
export async function loadProviderRegistry(
  names: readonly string[],
  providers: Readonly<Record<string, AISDKProvider>> = {},
): Promise<ReturnType<typeof createProviderRegistry>> {
  const all: Record<string, AISDKProvider> = { ...providers };
  for (const name of names) all[name] ??= await importProvider(name);
  return createProviderRegistry(all, { separator: ':' });
}

/** Options of {@link lm}: everything {@link fromAISDK} takes, plus explicit provider instances. */
export interface LMOptions extends FromAISDKOptions {
  /**
   * Providers by name, used before the well-known packages: e.g.
   * `{ local: createOpenAICompatible({ name: 'local', baseURL }) }` for `lm('local/llama3')`, or a configured
   * `createOpenAI({ apiKey })` under `openai`.
   */
  providers?: Readonly<Record<string, AISDKProvider>>;
}

/**
 * A dspy-ts LM from a `"provider/model"` string, DSPy-style (`dspy.LM('openai/gpt-4o-mini')`). The provider is found
 * in `options.providers` or imported from its AI SDK package (`@ai-sdk/openai` for `openai/…`) when first used; a
 * missing package fails that call with a {@link ConfigurationError} that names the package to install.
 *
 * @example
 * ```ts
 * configure({ lm: lm('openai/gpt-4o-mini', { temperature: 0 }) });
 * const local = lm('local/qwen2.5', { providers: { local: createOpenAICompatible({ name: 'local', baseURL }) } });
 * ```
 */
export function lm(id: string, options: LMOptions = {}): AISDKLM {
  const { provider, model } = parseModelString(id);
  const { providers, ...rest } = options;
  let pending: Promise<Awaited<ReturnType<typeof loadModel>>> | undefined;
  const loadModel = async () => {
    const registry = await loadProviderRegistry(providers?.[provider] ? [] : [provider], providers);
    return registry.languageModel(`${provider}:${model}` as never);
  };
  const memoised = () => {
    pending ??= loadModel();
    pending.catch(() => {
      pending = undefined;
    });
    return pending;
  };
  return createAISDKLM(memoised, undefined, rest.modelId ?? `${provider}/${model}`, rest);
}
