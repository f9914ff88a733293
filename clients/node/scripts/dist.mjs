// Small build steps that tsc does not do, without extra dependencies:
//   node scripts/dist.mjs clean      removes dist/
//   node scripts/dist.mjs mark-cjs   writes dist/cjs/package.json {"type": "commonjs"}, so that the
//                                    CommonJS build's .js files load as CommonJS inside this
//                                    "type": "module" package.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const command = process.argv[2];
if (command === 'clean') {
  rmSync(dist, { recursive: true, force: true });
} else if (command === 'mark-cjs') {
  mkdirSync(join(dist, 'cjs'), { recursive: true });
  writeFileSync(join(dist, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
} else {
  console.error('usage: node scripts/dist.mjs clean|mark-cjs');
  process.exit(2);
}
