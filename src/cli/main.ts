/**
 * The `samsa` command. `samsa start` runs a broker in the foreground; more
 * commands (topics, groups, configs) arrive with the CLI issue.
 */
import { Command } from 'commander';
import { ConfigError } from '../common/config/registry.ts';
import { SamsaError } from '../common/errors.ts';
import { startCommand } from './start.ts';

const program = new Command();
program.name('samsa').description('Samsa: a Kafka-compatible event streaming platform for Node.js');

program
  .command('start')
  .description('run a broker in the foreground (Ctrl-C or SIGTERM stops it cleanly)')
  .option('-c, --config <file>', 'server.properties file')
  .option(
    '-s, --set <key=value>',
    'set a broker config (repeatable)',
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  )
  .option('--dev', 'fast local preset: no initial rebalance delay, replication factor 1 for internal topics')
  .option('--storage <kind>', 'file (default) or memory (nothing is kept after exit)', 'file')
  .action(async (opts: { config?: string; set: string[]; dev?: boolean; storage: string }) => {
    await startCommand(opts);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof ConfigError || e instanceof SamsaError) {
    console.error(`samsa: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
