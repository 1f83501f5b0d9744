import { describe, expect, it } from 'vitest';
import {
  extractInstruction,
  formatReflectiveRecords,
  INSTRUCTION_PROPOSAL_PROMPT,
  type ReflectiveRecord,
  renderInstructionProposalPrompt,
} from './instruction-proposal.ts';

describe("GEPA's instruction proposal", () => {
  it('renders the records as markdown inside the prompt', () => {
    const records: ReflectiveRecord[] = [
      { Inputs: { question: ' q0 ' }, 'Generated Outputs': { answer: 'no' }, Feedback: 'Wrong: expected a0.' },
      { Inputs: {}, 'Generated Outputs': 'raw text', Feedback: 'Parse failure.' },
    ];
    expect(formatReflectiveRecords(records)).toBe(
      '# Example 1\n## Inputs\n### question\nq0\n\n## Generated Outputs\n### answer\nno\n\n## Feedback\nWrong: expected a0.\n\n' +
        '\n\n# Example 2\n## Inputs\n\n## Generated Outputs\nraw text\n\n## Feedback\nParse failure.\n\n',
    );
    const prompt = renderInstructionProposalPrompt('Answer $& well.', records);
    expect(
      prompt.startsWith(
        'I provided an assistant with the following instructions to perform a task for me:\n```\nAnswer $& well.\n```\n\nThe following are examples',
      ),
    ).toBe(true);
    expect(prompt).toContain('```\n# Example 1\n## Inputs\n### question\nq0\n\n');
    expect(prompt.endsWith('Provide the new instructions within ``` blocks.')).toBe(true);
    expect(INSTRUCTION_PROPOSAL_PROMPT.split('\n')[0]).toBe(
      'I provided an assistant with the following instructions to perform a task for me:',
    );
  });

  it('extracts the new instruction from the fenced block', () => {
    expect(extractInstruction('Sure!\n```\nBe precise.\n```\nDone.')).toBe('Be precise.');
    expect(extractInstruction('```markdown\nLine one.\nLine two.\n```')).toBe('Line one.\nLine two.');
    // First to last fence: inner fences are kept.
    expect(extractInstruction('```\nUse ```code``` spans.\n```')).toBe('Use ```code``` spans.');
    expect(extractInstruction('```text\nUnclosed block')).toBe('Unclosed block');
    expect(extractInstruction('Only a closing fence```')).toBe('Only a closing fence');
    expect(extractInstruction('  No fences at all.  ')).toBe('No fences at all.');
  });
});
