import type { LanguageModelV1, LMMessage, LMRequest, LMResponse, LMUsage } from './spec.ts';

/** One LM call as recorded in the call histories (DSPy's history entry). */
export interface HistoryEntry {
  /** The exact messages sent. */
  messages: LMMessage[];
  /** The request options actually sent (LM defaults merged in), without `messages` and `signal`. */
  options: Omit<LMRequest, 'messages' | 'signal'>;
  /** The full response. */
  response: LMResponse;
  /** The text of every choice, in order. */
  outputs: string[];
  /** Token usage of the call (`{}` for cache hits). */
  usage: LMUsage;
  /** Id of the LM object that was called. */
  modelId: string;
  /** Id of the model that answered, as the provider reported it. */
  responseModelId: string;
  /** When the call finished, ISO 8601. */
  timestamp: string;
  /** Unique id of this entry. */
  uuid: string;
  /** True when the response came from a cache. */
  cacheHit: boolean;
}

const globalHistory: HistoryEntry[] = [];
const historyByLM = new WeakMap<LanguageModelV1, HistoryEntry[]>();

/** Appends `entry` to `list`, dropping the oldest entries beyond `max`. */
export function pushBounded<T>(list: T[], entry: T, max: number): void {
  if (max <= 0) {
    list.length = 0;
    return;
  }
  list.push(entry);
  if (list.length > max) list.splice(0, list.length - max);
}

/** The process-wide history of LM calls, oldest first (a live, read-only view). */
export function globalLMHistory(): readonly HistoryEntry[] {
  return globalHistory;
}

/** The calls made through `lm`, oldest first (a live, read-only view; empty for an LM never called). */
export function lmHistory(lm: LanguageModelV1): readonly HistoryEntry[] {
  return historyByLM.get(lm) ?? [];
}

/** Empties the global history and, when given, the history of `lm`. */
export function clearHistory(lm?: LanguageModelV1): void {
  globalHistory.length = 0;
  if (lm) historyByLM.delete(lm);
}

/**
 * Records one call in the global history, the LM's history and every holder's history, each bounded by
 * `maxHistorySize`. Called by `callLM`; not needed by user code.
 */
export function recordHistory(
  entry: HistoryEntry,
  lm: LanguageModelV1,
  holders: readonly { history: HistoryEntry[] }[],
  maxHistorySize: number,
): void {
  pushBounded(globalHistory, entry, maxHistorySize);
  let own = historyByLM.get(lm);
  if (!own) {
    own = [];
    historyByLM.set(lm, own);
  }
  pushBounded(own, entry, maxHistorySize);
  for (const holder of holders) pushBounded(holder.history, entry, maxHistorySize);
}

/** Options of {@link formatHistory} and the `inspectHistory` functions. */
export interface InspectHistoryOptions {
  /** Wrap headers and responses in ANSI colours, as DSPy does on a terminal. Default `false`. */
  colors?: boolean;
  /**
   * Where the text is printed. Default: standard output, coloured when it is a terminal. Pass `false` to only
   * return the text.
   */
  write?: ((text: string) => void) | false;
}

const red = (text: string, colors: boolean) => (colors ? `\x1b[31m${text}\x1b[0m` : text);
const green = (text: string, colors: boolean) => (colors ? `\x1b[32m${text}\x1b[0m` : text);
const blue = (text: string, colors: boolean) => (colors ? `\x1b[34m${text}\x1b[0m` : text);

function capitalize(role: string): string {
  return role.charAt(0).toUpperCase() + role.slice(1).toLowerCase();
}

function imageLine(url: string): string {
  if (url.includes('base64')) {
    const [head, data = ''] = url.split('base64,');
    return `<${head}base64,<IMAGE BASE 64 ENCODED(${data.length})>`;
  }
  return `<image_url: ${url}>`;
}

/**
 * Renders the last `n` entries of `history` in DSPy's `pretty_print_history` layout: a timestamp line, then each
 * message under "System message:", "User message:" or "Assistant message:", then "Response:" with the first
 * choice's text (and a note counting the other choices).
 */
export function formatHistory(history: readonly HistoryEntry[], n = 1, options: { colors?: boolean } = {}): string {
  const colors = options.colors ?? false;
  let out = '';
  for (const item of n > 0 ? history.slice(-n) : []) {
    out += '\n\n\n\n';
    out += `${blue(`[${item.timestamp}]`, colors)}\n\n`;
    for (const message of item.messages) {
      out += `${red(`${capitalize(message.role)} message:`, colors)}\n\n`;
      if (typeof message.content === 'string') {
        out += `${message.content.trim()}\n`;
      } else {
        for (const part of message.content) {
          if (part.type === 'text') out += `${part.text.trim()}\n`;
          else out += `${blue(imageLine(part.url), colors)}\n\n`;
        }
      }
      out += '\n\n';
    }
    const first = item.response.choices[0];
    const text = first?.text ?? '';
    if (text) out += `${red('Response:', colors)}\n\n${green(text.trim(), colors)}\n\n`;
    if (first?.toolCalls?.length) {
      out += `${red('Tool calls:', colors)}\n\n`;
      for (const call of first.toolCalls) out += `${green(`${call.name}: ${JSON.stringify(call.args)}`, colors)}\n\n`;
    }
    if (item.outputs.length > 1) out += `${red(` \t (and ${item.outputs.length - 1} other completions)`, colors)}\n`;
  }
  out += '\n\n\n\n';
  return out;
}

/** Formats `history` and prints it as {@link InspectHistoryOptions} says; returns the uncoloured text. */
export function printHistory(history: readonly HistoryEntry[], n = 1, options: InspectHistoryOptions = {}): string {
  const plain = formatHistory(history, n);
  if (options.write === false) return plain;
  if (options.write) {
    options.write(options.colors ? formatHistory(history, n, { colors: true }) : plain);
  } else {
    const colors = options.colors ?? process.stdout.isTTY === true;
    process.stdout.write(colors ? formatHistory(history, n, { colors: true }) : plain);
  }
  return plain;
}

/**
 * Prints and returns the last `n` LM calls made anywhere in the process, showing the exact messages sent and the
 * response (DSPy's `dspy.inspect_history`).
 *
 * @example
 * ```ts
 * await qa.call({ question: 'What is 2+2?' });
 * inspectHistory(); // System message: ... User message: ... Response: ...
 * ```
 */
export function inspectHistory(n = 1, options: InspectHistoryOptions = {}): string {
  return printHistory(globalHistory, n, options);
}

/** Prints and returns the last `n` calls made through `lm` (DSPy's `lm.inspect_history`). */
export function inspectLMHistory(lm: LanguageModelV1, n = 1, options: InspectHistoryOptions = {}): string {
  return printHistory(lmHistory(lm), n, options);
}
