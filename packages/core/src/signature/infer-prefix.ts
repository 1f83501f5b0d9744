/** Python's `str.isupper()`: at least one cased character, and no lowercase ones. */
function isUpper(word: string): boolean {
  let cased = false;
  for (const ch of word) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    if (lower === upper) continue;
    if (ch !== upper) return false;
    cased = true;
  }
  return cased;
}

/** Python's `str.capitalize()`: first character upper-cased, the rest lower-cased. */
function capitalize(word: string): string {
  const [first = '', ...rest] = word;
  return first.toUpperCase() + rest.join('').toLowerCase();
}

/**
 * DSPy's `infer_prefix`: turns a camelCase or snake_case field name into Title Case words, keeping acronyms and
 * splitting digits off, for the default field prefix.
 *
 * @example
 * inferPrefix('someAttributeName42IsCool') // => 'Some Attribute Name 42 Is Cool'
 * inferPrefix('URLAddress')                // => 'URL Address'
 * inferPrefix('isHTTPSSecure123')          // => 'Is HTTPS Secure 123'
 * inferPrefix('input1')                    // => 'Input 1'
 */
export function inferPrefix(name: string): string {
  const s1 = name.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  const intermediate = s1.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  const withNumbers = intermediate.replace(/([a-zA-Z])(\d)/g, '$1_$2').replace(/(\d)([a-zA-Z])/g, '$1_$2');
  return withNumbers
    .split('_')
    .map((word) => (isUpper(word) ? word : capitalize(word)))
    .join(' ');
}
