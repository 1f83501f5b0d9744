/**
 * GEPA's default instruction proposal (upstream `gepa/strategies/instruction_proposal.py`,
 * `InstructionProposalSignature`): the reflective prompt, the markdown rendering of the reflective records, and the
 * extraction of the new instruction from the reflection LM's fenced block.
 */

/** One record of GEPA's reflective dataset: what a predictor saw, what it produced, and the metric's feedback. */
export interface ReflectiveRecord {
  /** The predictor's inputs, as text (Python `str()` of each value). */
  Inputs: Record<string, string>;
  /** The predictor's outputs as text, or a description of the unparseable raw response. */
  'Generated Outputs': Record<string, string> | string;
  /** The metric's feedback, or a default sentence naming the score. */
  Feedback: string;
}

/** GEPA's instruction-proposal prompt template, with `<curr_param>` and `<side_info>` placeholders. */
export const INSTRUCTION_PROPOSAL_PROMPT = `I provided an assistant with the following instructions to perform a task for me:
\`\`\`
<curr_param>
\`\`\`

The following are examples of different task inputs provided to the assistant along with the assistant's response for each of them, and some feedback on how the assistant's response could be better:
\`\`\`
<side_info>
\`\`\`

Your task is to write a new instruction for the assistant.

Read the inputs carefully and identify the input format and infer detailed task description about the task I wish to solve with the assistant.

Read all the assistant responses and the corresponding feedback. Identify all niche and domain specific factual information about the task and include it in the instruction, as a lot of it may not be available to the assistant in the future. The assistant may have utilized a generalizable strategy to solve the task, if so, include that in the instruction as well.

Provide the new instructions within \`\`\` blocks.`;

function renderValue(value: unknown, level: number): string {
  if (Array.isArray(value)) {
    let text = '';
    for (const [i, item] of value.entries()) {
      text += `${'#'.repeat(level)} Item ${i + 1}\n`;
      text += renderValue(item, Math.min(level + 1, 6));
    }
    if (value.length === 0) text += '\n';
    return text;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    let text = '';
    for (const [key, item] of entries) {
      text += `${'#'.repeat(level)} ${key}\n`;
      text += renderValue(item, Math.min(level + 1, 6));
    }
    if (entries.length === 0) text += '\n';
    return text;
  }
  return `${String(value).trim()}\n\n`;
}

/**
 * The reflective records as markdown: `# Example i`, then `## <key>` per record key, nested mappings as deeper
 * headings (capped at `######`), values stripped and followed by a blank line; examples joined by a blank line.
 */
export function formatReflectiveRecords(records: readonly ReflectiveRecord[]): string {
  return records
    .map((record, i) => {
      let text = `# Example ${i + 1}\n`;
      for (const [key, value] of Object.entries(record)) {
        text += `## ${key}\n`;
        text += renderValue(value, 3);
      }
      return text;
    })
    .join('\n\n');
}

/** The full reflective prompt for one component: its current instruction and its reflective records. */
export function renderInstructionProposalPrompt(
  currentInstruction: string,
  records: readonly ReflectiveRecord[],
  template: string = INSTRUCTION_PROPOSAL_PROMPT,
): string {
  // Replacer functions: `$` sequences in the texts must stay literal.
  return template
    .replace('<curr_param>', () => currentInstruction)
    .replace('<side_info>', () => formatReflectiveRecords(records));
}

/**
 * The new instruction in a reflection LM's reply (upstream `output_extractor`): the text between the first and the
 * last ``` fence, without a language tag on the opening line; an unclosed block is taken from its opening fence
 * to the end, a lone closing fence is dropped, and a reply without fences is used whole. Always stripped.
 */
export function extractInstruction(reply: string): string {
  const output = reply.trim();
  const start = output.indexOf('```') + 3;
  const end = output.lastIndexOf('```');
  if (start >= end) {
    if (output.startsWith('```')) {
      const match = /^```\S*\n?/.exec(output);
      if (match) return output.slice(match[0].length).trim();
    } else if (output.endsWith('```')) {
      return output.slice(0, -3).trim();
    }
    return output;
  }
  let content = output.slice(start, end);
  const language = /^\S*\n/.exec(content);
  if (language) content = content.slice(language[0].length);
  return content.trim();
}
