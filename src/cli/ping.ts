import { performance } from 'node:perf_hooks';
import type { Argv } from 'yargs';
import { CliUsageError } from './cli-error.js';
import { PING_COUNT_MAX } from './limits.js';
import { runVerb, withClient, type GlobalArgs } from './session.js';

/**
 * `walrus ping`: time to connect (TCP + `hello`), then `--count` request round trips. The protocol
 * has no ping op, so a round trip is `listTopics`: the cheapest request, answered without disk I/O.
 */

type PingArgs = GlobalArgs & { count: number };

/** Milliseconds rounded to microseconds, for printing. */
function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Registers the `ping` verb. */
export function pingCommand(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs.command(
    'ping',
    'Measure the round-trip time to the broker',
    (y) => y.option('count', { type: 'number', default: 3, describe: `Round trips to make (1..${PING_COUNT_MAX})` }) as Argv<PingArgs>,
    (args) =>
      runVerb(args, async ({ target, output }) => {
        if (!Number.isSafeInteger(args.count) || args.count < 1 || args.count > PING_COUNT_MAX) {
          throw new CliUsageError(`--count must be an integer in 1..${PING_COUNT_MAX}`);
        }
        const connectStart = performance.now();
        const { connectMs, roundTripsMs } = await withClient(target, async (client) => {
          const connected = performance.now() - connectStart;
          const times: number[] = [];
          for (let i = 0; i < args.count; i += 1) {
            const start = performance.now();
            await client.admin.listTopics();
            times.push(performance.now() - start);
          }
          return { connectMs: connected, roundTripsMs: times };
        });
        const broker = `${target.host}:${target.port}`;
        const summary = {
          broker,
          connectMs: ms(connectMs),
          roundTripsMs: roundTripsMs.map(ms),
          minMs: ms(Math.min(...roundTripsMs)),
          avgMs: ms(roundTripsMs.reduce((a, b) => a + b, 0) / roundTripsMs.length),
          maxMs: ms(Math.max(...roundTripsMs)),
        };
        output.result(
          summary,
          `${broker}: connected in ${summary.connectMs} ms; ${args.count} round trip${args.count === 1 ? '' : 's'} min/avg/max ${summary.minMs}/${summary.avgMs}/${summary.maxMs} ms`,
        );
      }),
  );
}
