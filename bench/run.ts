/**
 * `npm run bench`: runs every bench/*.bench.ts in this process, one after
 * the other. Each prints its figures together with a ratio against a baseline
 * measured in the same run (these machines are noisy; absolute numbers alone
 * mean little). Pass names to run a subset: `npm run bench -- crc codec`.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const f of files) {
  const mod = (await import(join(here, f))) as { run: () => Promise<void> };
  console.log(`\n## ${basename(f, '.bench.ts')}`);
  await mod.run();
}
