/**
 * Layering rules from ../shared/docs/ARCHITECTURE.md, checked in CI
 * (`npm run check:layers`). Arrows of use:
 *   common -> protocol -> storage -> broker -> http
 *   protocol -> client -> cli ; metadata -> broker
 */
const layer = (name, mayNotUse, comment) => ({
  name: `${name}-layering`,
  severity: 'error',
  comment,
  from: { path: `^src/${name}/` },
  to: { path: mayNotUse.map((l) => `^src/${l}/`) },
});

module.exports = {
  forbidden: [
    layer(
      'common',
      ['protocol', 'storage', 'metadata', 'broker', 'client', 'http', 'cli', 'testing'],
      'common is the bottom layer',
    ),
    layer(
      'protocol',
      ['storage', 'metadata', 'broker', 'client', 'http', 'cli', 'testing'],
      'protocol depends only on common',
    ),
    layer(
      'storage',
      ['metadata', 'broker', 'client', 'http', 'cli', 'testing'],
      'storage depends on protocol and common',
    ),
    layer('metadata', ['storage', 'broker', 'client', 'http', 'cli', 'testing'], 'metadata feeds the broker'),
    layer('broker', ['client', 'http', 'cli', 'testing'], 'the broker never imports the client'),
    layer(
      'client',
      ['storage', 'metadata', 'broker', 'http', 'cli', 'testing'],
      'the client uses protocol and common only',
    ),
    layer('http', ['cli', 'client', 'testing'], 'http sits on the broker'),
    {
      name: 'protocol-is-sans-io',
      severity: 'error',
      comment: 'protocol/ is sans-I/O: no sockets, files, timers or logging',
      from: { path: '^src/protocol/' },
      to: {
        path: '^(node:)?(net|tls|fs|fs/promises|dgram|http|https|http2|child_process|timers|timers/promises)$|^pino',
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no runtime import cycles (type-only cycles are erased at run time)',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment: 'src/ must not import dev dependencies',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
