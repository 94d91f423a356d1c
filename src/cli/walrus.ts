#!/usr/bin/env node
/**
 * `walrus`: the operator's command line for a walrus-broker. Verbs: `topics`, `groups`, `produce`,
 * `tail`, `ping` (one file each in this folder). Exit codes: 0 ok, 1 usage error, 2 broker error
 * (its stable code printed to stderr as `walrus: CODE: message`). docs/operations.md is the reference.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode } from './cli-error.js';
import { groupsCommand } from './groups.js';
import { BROKER_DEFAULT, CONNECT_TIMEOUT_MS_DEFAULT } from './limits.js';
import { pingCommand } from './ping.js';
import { produceCommand } from './produce.js';
import type { GlobalArgs } from './session.js';
import { tailCommand } from './tail.js';
import { topicsCommand } from './topics.js';

/** A flag given twice: the last value wins (as with the daemon), instead of an array. */
function last(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

async function main(): Promise<void> {
  let cli = yargs(hideBin(process.argv))
    .scriptName('walrus')
    .usage('$0 <command> [options]\n\nInspect and operate a walrus-broker.')
    .option('broker', { type: 'string', coerce: last, describe: `Broker host:port (env WALRUS_BROKER; default ${BROKER_DEFAULT})`, global: true })
    .option('token', { type: 'string', coerce: last, describe: 'Auth token sent in hello (env WALRUS_TOKEN)', global: true })
    .option('tls', { type: 'boolean', describe: 'Connect with TLS, trusting the system CAs', global: true })
    .option('tls-ca', { type: 'string', coerce: last, describe: 'CA certificate file (PEM) to trust; implies --tls (env WALRUS_TLS_CA)', global: true })
    .option('json', { type: 'boolean', describe: 'Machine-readable JSON output', global: true })
    .option('timeout-ms', { type: 'number', coerce: last, describe: `Connect timeout (default ${CONNECT_TIMEOUT_MS_DEFAULT})`, global: true }) as unknown as Argv<GlobalArgs>;
  cli = topicsCommand(cli);
  cli = groupsCommand(cli);
  cli = produceCommand(cli);
  cli = tailCommand(cli);
  cli = pingCommand(cli);
  await cli
    .demandCommand(1, 'Name a command: topics, groups, produce, tail or ping')
    .strict()
    .fail((message: string | undefined, error: Error | undefined) => {
      // Programmer errors inside a handler surface here too; runVerb already caught operating ones.
      if (error !== undefined && error !== null) throw error;
      process.stderr.write(`walrus: ${message ?? 'usage error'}\nRun walrus --help for usage.\n`);
      // Exit here: returning would let yargs run the handler with the arguments it just refused.
      process.exit(ExitCode.usage);
    })
    .help()
    .version(false)
    .parseAsync();
}

await main();
