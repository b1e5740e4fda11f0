#!/usr/bin/env node
// Entry point of the `samsa` command. Runs the TypeScript sources directly on
// Node.js 24 (type stripping); a published build would point at dist/.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `samsa needs Node.js 24 or later (this is ${process.version}). ` +
      'From a clone, run it through npm so the pinned Node is used: npm ci && npx samsa start',
  );
  process.exit(1);
}
// Cache compiled (and type-stripped) modules between runs: start-up drops from
// over a second to well under 100 ms once the cache is warm.
const { enableCompileCache, flushCompileCache } = await import('node:module');
enableCompileCache?.();
await import('../src/cli/main.ts');
// The cache is otherwise written at exit, which a killed broker never reaches.
flushCompileCache?.();
