const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/**
 * DSPy's `normalize_text` (SQuAD-style): Unicode NFD, lower case, ASCII punctuation removed, the articles
 * `a`/`an`/`the` removed, whitespace collapsed.
 *
 * @example normalizeText('The  Eiffel Tower!') // 'eiffel tower'
 */
export function normalizeText(text: string): string {
  const lowered = text.normalize('NFD').toLowerCase();
  const withoutPunctuation = [...lowered].filter((ch) => !PUNCTUATION.has(ch)).join('');
  const withoutArticles = withoutPunctuation.replace(/\b(a|an|the)\b/g, ' ');
  return withoutArticles.split(/\s+/).filter(Boolean).join(' ');
}
