// ESM entry point (dist/esm/index.js).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBuildDir } from './spawn.js';

setBuildDir(dirname(fileURLToPath(import.meta.url)));

export * from './api.js';
