import type { Argv } from 'yargs';
import { WalrusError, type TopicDescription, type WalrusClient } from '../client/index.js';
import { CliUsageError } from './cli-error.js';
import { TAIL_FETCH_RECORDS_MAX, TAIL_IDLE_CHECK_MS, TAIL_POLL_MS } from './limits.js';
import { OffsetReader } from './offset-reader.js';
import type { Output } from './output.js';
import { parseStartPosition, type StartPosition } from './position.js';
import { recordJson, recordLine, type PrintableRecord } from './record-format.js';
import { runVerb, withClient, type BrokerTarget, type GlobalArgs } from './session.js';

/**
 * `walrus tail TOPIC`: prints records, one line each (NDJSON with `--json`).
 * - Without `--group`: plain offset reads, nothing leased or committed; starts at `--from`
 *   (default `earliest`).
 * - With `--group`: reads as a member of that group and commits each record once printed; `--from`
 *   first seeks the group there (default: the group's committed cursor).
 * Without `--follow` it stops at the end of the topic as it was when the command started; with it,
 * it waits for new records until `--max` records or Ctrl-C.
 */

type TailArgs = GlobalArgs & { topic: string; group?: string; from?: string; follow?: boolean; max?: number };

interface TailPlan {
  readonly topic: string;
  readonly follow: boolean;
  /** Records to print at most; Infinity when unbounded. */
  readonly max: number;
  readonly output: Output;
  readonly signal: AbortSignal;
}

function printRecord(plan: TailPlan, record: PrintableRecord): void {
  plan.output.line(plan.output.json ? JSON.stringify(recordJson(plan.topic, record)) : recordLine(record));
}

/** The topic's description; a missing topic counts as empty while following (it may appear). */
async function describeOrEmpty(client: WalrusClient, topic: string, follow: boolean): Promise<TopicDescription> {
  try {
    return await client.admin.describeTopic(topic);
  } catch (error) {
    if (follow && error instanceof WalrusError && error.code === 'NOT_FOUND') return { topic, firstOffset: 0, nextOffset: 0, bytes: 0, groups: [] };
    throw error;
  }
}

/** The offset `position` names on a topic described by `description`. */
async function startOffset(reader: OffsetReader, description: TopicDescription, position: StartPosition): Promise<number> {
  switch (position.kind) {
    case 'earliest':
      return description.firstOffset;
    case 'latest':
      return description.nextOffset;
    case 'offset':
      return position.offset;
    case 'time':
      return reader.offsetAtTime(description.topic, description.firstOffset, description.nextOffset, position.timeMs);
  }
}

/** Plain reads from `offset` until the end (without follow), `max` records or the signal. */
async function tailOffsets(reader: OffsetReader, plan: TailPlan, offset: number, endOffset: number): Promise<number> {
  let printed = 0;
  let next = offset;
  while (printed < plan.max && !plan.signal.aborted && (plan.follow || next < endOffset)) {
    const wanted = Math.min(TAIL_FETCH_RECORDS_MAX, plan.max - printed);
    const { records } = await reader.read(plan.topic, next, wanted, plan.follow ? TAIL_POLL_MS : 0, plan.signal);
    if (records.length === 0 && !plan.follow) break;
    for (const record of records) {
      if (printed >= plan.max || (!plan.follow && record.offset >= endOffset)) return printed;
      printRecord(plan, record);
      printed += 1;
      next = record.offset + 1;
    }
  }
  return printed;
}

/** Group reads, committing each printed record, until the start-time end (without follow), `max` or the signal. */
async function tailGroup(client: WalrusClient, plan: TailPlan, group: string, endOffset: number): Promise<number> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  plan.signal.addEventListener('abort', onAbort, { once: true });
  // Without follow, the group may already be at the end, or the last records may go to another
  // member: check the cursor now and then instead of waiting for a record that never comes.
  const idleCheck = plan.follow
    ? undefined
    : setInterval(() => {
        void client.admin.groupLag(plan.topic, group).then(
          (lag) => {
            if (lag !== undefined && lag.committed >= endOffset && lag.inFlight === 0) stop.abort();
          },
          () => stop.abort(),
        );
      }, TAIL_IDLE_CHECK_MS);
  let printed = 0;
  const consumer = client.consumer({ topic: plan.topic, group });
  try {
    for await (const message of consumer.messages({ signal: stop.signal })) {
      printRecord(plan, message);
      printed += 1;
      await message.commit();
      if (printed >= plan.max || (!plan.follow && message.offset >= endOffset - 1)) break;
    }
  } catch (error) {
    if (!(error instanceof WalrusError && error.code === 'ABORTED' && stop.signal.aborted)) throw error;
  } finally {
    clearInterval(idleCheck);
    plan.signal.removeEventListener('abort', onAbort);
    await consumer.close({ timeoutMs: 1_000 });
  }
  return printed;
}

async function tail(target: BrokerTarget, args: TailArgs, output: Output, signal: AbortSignal): Promise<void> {
  const position = args.from === undefined ? undefined : parseStartPosition('--from', args.from);
  const max = args.max ?? Number.POSITIVE_INFINITY;
  if (!(max === Number.POSITIVE_INFINITY || (Number.isSafeInteger(max) && max >= 1))) throw new CliUsageError('--max must be a positive integer');
  const plan: TailPlan = { topic: args.topic, follow: args.follow === true, max, output, signal };
  await withClient(target, async (client) => {
    const description = await describeOrEmpty(client, args.topic, plan.follow);
    const needsReader = args.group === undefined || position?.kind === 'time';
    const reader = needsReader ? await OffsetReader.open(target) : undefined;
    try {
      if (args.group === undefined) {
        const offset = await startOffset(reader!, description, position ?? { kind: 'earliest' });
        await tailOffsets(reader!, plan, offset, description.nextOffset);
        return;
      }
      if (position !== undefined) {
        const to = position.kind === 'time' ? await startOffset(reader!, description, position) : position.kind === 'offset' ? position.offset : position.kind;
        await client.admin.seek(args.topic, args.group, to);
      }
      const lag = await client.admin.groupLag(args.topic, args.group);
      const committed = lag?.committed ?? description.firstOffset;
      if (!plan.follow && committed >= description.nextOffset) return;
      await tailGroup(client, plan, args.group, description.nextOffset);
    } finally {
      reader?.close();
    }
  });
}

/** Registers the `tail` verb. */
export function tailCommand(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs.command(
    'tail <topic>',
    'Print records of a topic (plain reads, or as a group with --group)',
    (y) =>
      y
        .positional('topic', { type: 'string', demandOption: true, describe: 'Topic name' })
        .option('group', { type: 'string', describe: 'Read as this consumer group, committing what is printed' })
        .option('from', { type: 'string', describe: 'earliest, latest, an offset or an ISO-8601 time (default: earliest; with --group: its cursor)' })
        .option('follow', { type: 'boolean', alias: 'f', describe: 'Keep waiting for new records' })
        .option('max', { type: 'number', describe: 'Stop after this many records' }) as Argv<TailArgs>,
    (args) =>
      runVerb(args, async ({ target, output }) => {
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await tail(target, args, output, stop.signal);
        } catch (error) {
          if (!(stop.signal.aborted && error instanceof WalrusError && error.code === 'ABORTED')) throw error;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
  );
}
