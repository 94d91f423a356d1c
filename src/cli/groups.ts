import type { Argv } from 'yargs';
import type { WalrusClient } from '../client/index.js';
import { CliBrokerStateError } from './cli-error.js';
import type { Column } from './output.js';
import { parseSeekTarget } from './position.js';
import { runVerb, withClient, type GlobalArgs } from './session.js';
import { describeTopics } from './topics.js';

/**
 * `walrus groups list|describe|seek`. The protocol keeps groups per topic (there is no group-listing
 * op), so groups are read from `describeTopic` of each topic.
 */

/** One group's progress on one topic. */
export interface GroupRow {
  topic: string;
  group: string;
  committed: number;
  inFlight: number;
  lag: number;
}

const GROUP_COLUMNS: readonly Column<GroupRow>[] = [
  { header: 'topic', cell: (g) => g.topic },
  { header: 'group', cell: (g) => g.group },
  { header: 'committed', cell: (g) => g.committed, numeric: true },
  { header: 'in-flight', cell: (g) => g.inFlight, numeric: true },
  { header: 'lag', cell: (g) => g.lag, numeric: true },
];

/** Every group on `topic`, or on every topic when it is undefined; sorted by topic, then group. */
export async function listGroups(client: WalrusClient, topic: string | undefined): Promise<GroupRow[]> {
  const descriptions =
    topic === undefined ? await describeTopics(client, (await client.admin.listTopics()).sort()) : [await client.admin.describeTopic(topic)];
  return descriptions.flatMap((d) =>
    d.groups
      .map((g) => ({ topic: d.topic, group: g.group, committed: g.committed, inFlight: g.inFlight, lag: g.lag }))
      .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0)),
  );
}

type ListArgs = GlobalArgs & { topic?: string };
type DescribeArgs = GlobalArgs & { topic?: string; group: string };
type SeekArgs = GlobalArgs & { topic: string; group: string; to: string };

/** Registers the `groups` verb group. */
export function groupsCommand(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs.command('groups', 'Inspect consumer groups and move their cursors', (groups: Argv<GlobalArgs>) =>
    groups
      .command(
        'list',
        'List groups with their cursor, in-flight records and lag',
        (y) => y.option('topic', { type: 'string', describe: 'Only groups of this topic' }) as Argv<ListArgs>,
        (args) =>
          runVerb(args, async ({ target, output }) => {
            const rows = await withClient(target, (client) => listGroups(client, args.topic));
            output.table(rows, GROUP_COLUMNS, '(no groups)');
          }),
      )
      .command(
        'describe',
        "Show one group's progress on each topic it reads (or on --topic)",
        (y) =>
          y
            .option('group', { type: 'string', demandOption: true, describe: 'Group name' })
            .option('topic', { type: 'string', describe: 'Only this topic' }) as Argv<DescribeArgs>,
        (args) =>
          runVerb(args, async ({ target, output }) => {
            const rows = (await withClient(target, (client) => listGroups(client, args.topic))).filter((g) => g.group === args.group);
            if (rows.length === 0) {
              const where = args.topic === undefined ? 'any topic' : `topic ${args.topic}`;
              throw new CliBrokerStateError('NOT_FOUND', `group ${args.group} has no cursor on ${where}`);
            }
            output.table(rows, GROUP_COLUMNS, '');
          }),
      )
      .command(
        'seek',
        "Move a group's cursor to earliest, latest or an offset (drops its leases)",
        (y) =>
          y
            .option('topic', { type: 'string', demandOption: true, describe: 'Topic name' })
            .option('group', { type: 'string', demandOption: true, describe: 'Group name' })
            .option('to', { type: 'string', demandOption: true, describe: 'earliest, latest or an offset' }) as Argv<SeekArgs>,
        (args) =>
          runVerb(args, async ({ target, output }) => {
            const to = parseSeekTarget('--to', args.to);
            const { offset } = await withClient(target, (client) => client.admin.seek(args.topic, args.group, to));
            output.result({ topic: args.topic, group: args.group, offset }, `${args.group} on ${args.topic} now at offset ${offset}`);
          }),
      )
      .demandCommand(1, 'groups needs a verb: list, describe or seek'),
  );
}
