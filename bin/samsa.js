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
await import('../src/cli/main.ts');
