import { describe, expect, it } from 'vitest';
import { inferPrefix } from './infer-prefix.ts';

describe('inferPrefix', () => {
  it.each([
    ['someAttributeName42IsCool', 'Some Attribute Name 42 Is Cool'],
    ['URLAddress', 'URL Address'],
    ['isHTTPSSecure123', 'Is HTTPS Secure 123'],
    ['input1', 'Input 1'],
    ['question', 'Question'],
    ['snake_case_name', 'Snake Case Name'],
    ['reasoning_steps2', 'Reasoning Steps 2'],
    ['ALLCAPS', 'ALLCAPS'],
    ['mIxEd', 'M Ix Ed'],
  ])('%s → %s', (name, expected) => {
    expect(inferPrefix(name)).toBe(expected);
  });
});
