// CommonJS entry point (dist/cjs/index.cjs).
import { setBuildDir } from './spawn.js';

setBuildDir(__dirname);

export * from './api.js';
