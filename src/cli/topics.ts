import type { Argv } from 'yargs';
import type { GroupLag, TopicDescription } from '../client/index.js';
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
              const names = (await client.admin.listTopics()).sort();
              return Promise.all(names.map((name) => client.admin.describeTopic(name)));
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
