import type { Argv } from 'yargs';
import { WalrusError, type GroupLag, type TopicDescription, type WalrusClient } from '../client/index.js';
import { DESCRIBE_CONCURRENCY_MAX } from './limits.js';
import type { Column } from './output.js';
import { runVerb, withClient, type GlobalArgs } from './session.js';

/** `walrus topics list|create|delete|describe`: thin calls over `client.admin`. */

const TOPIC_COLUMNS: readonly Column<TopicDescription>[] = [
  { header: 'topic', cell: (t) => t.topic },
  { header: 'first', cell: (t) => t.firstOffset, numeric: true },
  { header: 'next', cell: (t) => t.nextOffset, numeric: true },
  { header: 'bytes', cell: (t) => t.bytes, numeric: true },
  { header: 'groups', cell: (t) => t.groups.length, numeric: true },
];

/** Columns of a group's progress on one topic; shared with `groups`. */
export const GROUP_LAG_COLUMNS: readonly Column<GroupLag>[] = [
  { header: 'group', cell: (g) => g.group },
  { header: 'committed', cell: (g) => g.committed, numeric: true },
  { header: 'in-flight', cell: (g) => g.inFlight, numeric: true },
  { header: 'lag', cell: (g) => g.lag, numeric: true },
];

/**
 * Descriptions of `names`, in order, at most `DESCRIBE_CONCURRENCY_MAX` requests at a time. A topic
 * deleted between listing and describing (`NOT_FOUND`) is left out rather than failing the listing.
 */
export async function describeTopics(client: WalrusClient, names: readonly string[]): Promise<TopicDescription[]> {
  const found: Array<TopicDescription | undefined> = new Array(names.length);
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < names.length) {
      const index = nextIndex++;
      try {
        found[index] = await client.admin.describeTopic(names[index]!);
      } catch (error) {
        if (!(error instanceof WalrusError && error.code === 'NOT_FOUND')) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DESCRIBE_CONCURRENCY_MAX, names.length) }, worker));
  return found.filter((d): d is TopicDescription => d !== undefined);
}

type TopicArgs = GlobalArgs & { topic: string };

function withTopic(yargs: Argv<GlobalArgs>): Argv<TopicArgs> {
  return yargs.positional('topic', { type: 'string', demandOption: true, describe: 'Topic name' }) as Argv<TopicArgs>;
}

/** Registers the `topics` verb group. */
export function topicsCommand(yargs: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return yargs.command('topics', 'List, create, delete and describe topics', (topics: Argv<GlobalArgs>) =>
    topics
      .command(
        'list',
        'List topics with their offsets and size',
        (y) => y,
        (args) =>
          runVerb(args, async ({ target, output }) => {
            const rows = await withClient(target, async (client) => {
              return describeTopics(client, (await client.admin.listTopics()).sort());
            });
            output.table(rows, TOPIC_COLUMNS, '(no topics)');
          }),
      )
      .command('create <topic>', 'Create a topic (no error when it exists)', withTopic, (args) =>
        runVerb(args, async ({ target, output }) => {
          const { created } = await withClient(target, (client) => client.admin.createTopic(args.topic));
          output.result({ topic: args.topic, created }, created ? `created ${args.topic}` : `${args.topic} already exists`);
        }),
      )
      .command('delete <topic>', 'Delete a topic, its records and its groups', withTopic, (args) =>
        runVerb(args, async ({ target, output }) => {
          await withClient(target, (client) => client.admin.deleteTopic(args.topic));
          output.result({ topic: args.topic, deleted: true }, `deleted ${args.topic}`);
        }),
      )
      .command('describe <topic>', "Show a topic's offsets, size and groups", withTopic, (args) =>
        runVerb(args, async ({ target, output }) => {
          const description = await withClient(target, (client) => client.admin.describeTopic(args.topic));
          if (output.json) {
            output.result(description, '');
            return;
          }
          output.table([description], TOPIC_COLUMNS, '');
          output.line('');
          output.table(description.groups, GROUP_LAG_COLUMNS, '(no groups)');
        }),
      )
      .demandCommand(1, 'topics needs a verb: list, create, delete or describe'),
  );
}
