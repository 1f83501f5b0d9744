/**
 * Child process of the shared-cache test: asks the local server one question through an LM whose disk cache is the
 * given SQLite file, and prints `{ text, cacheHit }` as JSON. Arguments: base URL, cache file, question.
 *
 * @module
 */
import { LMCache } from '../src/lm-cache.ts';
import { localLM } from './local-lm.ts';

const [baseURL, cacheFile, question] = process.argv.slice(2) as [string, string, string];
const cache = new LMCache({ disk: cacheFile });
const response = await localLM({ baseURL }, { cache }).generate({ messages: [{ role: 'user', content: question }] });
cache.close();
process.stdout.write(JSON.stringify({ text: response.choices[0]?.text, cacheHit: response.cacheHit === true }));
