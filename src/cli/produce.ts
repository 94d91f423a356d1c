import type { Argv } from 'yargs';
import type { Headers, Producer } from '../client/index.js';
import { CliUsageError } from './cli-error.js';
import { HEADERS_MAX, PRODUCE_PENDING_MAX } from './limits.js';
import { runVerb, withClient, type GlobalArgs } from './session.js';
import { InputFormat, readValues } from './stdin-records.js';

/**
 * `walrus produce TOPIC`: records from stdin (see stdin-records.ts for the formats), each with the
 * same `--key` and `--header`s. Sends run concurrently so the SDK batches them, with at most
 * `PRODUCE_PENDING_MAX` unacknowledged; the command ends once every record is acknowledged.
 */

type ProduceArgs = GlobalArgs & { topic: string; format: string; key?: string; header?: string[] };

/** Parses repeated `--header name=value`. Throws `CliUsageError`. */
export function parseHeaders(flags: readonly string[] | undefined): Headers | undefined {
  if (flags === undefined || flags.length === 0) return undefined;
  if (flags.length > HEADERS_MAX) throw new CliUsageError(`at most ${HEADERS_MAX} --header flags`);
  const headers: Headers = {};
  for (const flag of flags) {
    const equals = String(flag).indexOf('=');
    if (equals <= 0) throw new CliUsageError(`--header must be name=value, got ${JSON.stringify(flag)}`);
    headers[String(flag).slice(0, equals)] = String(flag).slice(equals + 1);
  }
  return headers;
}

/** What a produce run stored. */
export interface ProduceSummary {
  topic: string;
  count: number;
  /** Lowest and highest offset acknowledged; null when stdin held no records. */
  firstOffset: number | null;
  lastOffset: number | null;
}

/** Sends every value with `key` and `headers`, keeping at most `PRODUCE_PENDING_MAX` in flight. */
export async function produceAll(
  producer: Producer,
  topic: string,
  values: AsyncIterable<Uint8Array>,
  key: string | undefined,
  headers: Headers | undefined,
): Promise<ProduceSummary> {
  const summary: ProduceSummary = { topic, count: 0, firstOffset: null, lastOffset: null };
  const pending = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for await (const value of values) {
    if (failure !== undefined) break;
    const sent: Promise<void> = producer
      .send(topic, { value, key, headers })
      .then(({ offset }) => {
        summary.count += 1;
        summary.firstOffset = summary.firstOffset === null ? offset : Math.min(summary.firstOffset, offset);
        summary.lastOffset = summary.lastOffset === null ? offset : Math.max(summary.lastOffset, offset);
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => pending.delete(sent));
    pending.add(sent);
    if (pending.size >= PRODUCE_PENDING_MAX) await Promise.race(pending);
  }
  await Promise.all(pending);
  if (failure !== undefined) throw failure.error;
  return summary;
}

/** Registers the `produce` verb. */
export function produceCommand(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs.command(
    'produce <topic>',
    'Produce records read from stdin (one per line by default)',
    (y) =>
      y
        .positional('topic', { type: 'string', demandOption: true, describe: 'Topic (created on first record)' })
        .option('format', { type: 'string', choices: Object.values(InputFormat), default: InputFormat.lines, describe: 'stdin format' })
        .option('key', { type: 'string', describe: 'Key of every record' })
        .option('header', { type: 'string', array: true, describe: 'Header name=value of every record (repeatable)' }) as Argv<ProduceArgs>,
    (args) =>
      runVerb(args, async ({ target, output }) => {
        const headers = parseHeaders(args.header);
        const format = args.format as InputFormat;
        const summary = await withClient(target, (client) =>
          produceAll(client.producer(), args.topic, readValues(process.stdin, format), args.key, headers),
        );
        const range = summary.count === 0 ? '' : ` (offsets ${summary.firstOffset}..${summary.lastOffset})`;
        output.result(summary, `produced ${summary.count} record${summary.count === 1 ? '' : 's'} to ${summary.topic}${range}`);
      }),
  );
}
