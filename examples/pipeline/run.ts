/**
 * Runs the whole pipeline as separate processes against a broker on 127.0.0.1:9797 (`make run`):
 * one source → WORKERS (default 3) workers in group `workers` → one sink.
 *
 *   npx tsx examples/pipeline/run.ts
 *
 * Topics and groups keep their state between runs; use a fresh broker data dir for a clean count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const workers = Number(process.env.WORKERS ?? 3);

function stage(file: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(here, file), ...args], { stdio: 'inherit' });
}

const exited = (child: ChildProcess): Promise<void> => new Promise((resolve) => child.once('exit', () => resolve()));

const sink = stage('sink.ts');
const members = Array.from({ length: workers }, (_, i) => stage('worker.ts', `w${i + 1}`));
await exited(stage('source.ts'));
await exited(sink);
for (const member of members) member.kill('SIGINT');
await Promise.all(members.map(exited));
