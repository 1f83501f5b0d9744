import { packageConfig } from '../../tsdown.base.ts';

// Node only: the disk cache uses node:sqlite and the cassettes node:fs, so there is no browser entry.
export default packageConfig();
