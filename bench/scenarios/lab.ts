/**
 * What every scenario script shares: building case specs from the knobs, starting systems so that
 * they are always stopped (also on Ctrl-C), and printing and saving the results.
 */
import { loadavg } from 'node:os';
import type { BenchConfig } from '../lib/config.js';
import { resultsTable, runStamp, writeCsv } from '../lib/report.js';
import { runCase, Shape, type CaseResult, type CaseSpec } from '../load/run-case.js';
import { targetOf, type SystemUnderTest } from './systems.js';

export { Shape };

/** Options of one case beyond the shared knobs. */
export interface CaseOptions {
  name: string;
  shape: Shape;
  producers?: number;
  consumers?: number;
  rateTotalPerS?: number;
  durationS?: number;
  /** Our SDK producer's linger for this case (walrus targets only). */
  lingerMs?: number;
}

/** Runs a scenario's cases, keeps their results and the systems it must stop. */
export class Lab {
  readonly scenario: string;
  readonly config: BenchConfig;
  readonly stamp = runStamp();
  readonly results: CaseResult[] = [];
  private readonly running = new Set<SystemUnderTest>();
  private caseNumber = 0;
  /** 1-minute load average when the scenario started: other work on the machine skews figures. */
  private readonly loadAtStart = loadavg()[0] ?? 0;

  constructor(scenario: string, config: BenchConfig) {
    this.scenario = scenario;
    this.config = config;
    const onSignal = (signal: NodeJS.Signals): void => {
      process.stderr.write(`\n${signal}: stopping ${this.running.size} system(s)\n`);
      void this.stopAll().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  /** Starts a system, runs `body` with it, and stops it by its PID whatever happens. */
  async with(start: () => Promise<SystemUnderTest>, body: (system: SystemUnderTest) => Promise<void>): Promise<void> {
    const system = await start();
    this.running.add(system);
    process.stderr.write(`${system.label}: ${system.host}:${system.port}${system.pid ? ` (pid ${system.pid})` : ''}\n`);
    try {
      await body(system);
    } finally {
      this.running.delete(system);
      await system.stop();
    }
  }

  /** Builds and runs one case on `system`, prints its row, and keeps the result. */
  async run(system: SystemUnderTest, options: CaseOptions): Promise<CaseResult> {
    this.caseNumber += 1;
    const topic = `bench-${this.scenario}-${this.stamp}-${this.caseNumber}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    const spec: CaseSpec = {
      scenario: this.scenario,
      name: options.name,
      system: system.label,
      durability: options.shape === Shape.Consume ? system.consumeDurability : system.produceDurability,
      shape: options.shape,
      target: { ...targetOf(system, topic), ...(options.lingerMs === undefined ? {} : { lingerMs: options.lingerMs }) },
      producers: options.producers ?? this.config.threads[0] ?? 1,
      consumers: options.consumers ?? this.config.threads[0] ?? 1,
      payloadBytes: this.config.payloadBytes,
      window: this.config.window,
      rateTotalPerS: options.rateTotalPerS ?? 0,
      durationS: options.durationS ?? this.config.durationS,
      prefill: this.config.prefill,
      serverPid: system.pid,
    };
    const result = await runCase(spec);
    this.results.push(result);
    process.stderr.write(`${resultsTable([result]).split('\n').slice(2).join('\n')}\n`);
    if (result.firstError !== undefined) process.stderr.write(`  first error: ${result.firstError}\n`);
    return result;
  }

  /** Prints the scenario's table and writes its CSV; returns the CSV path. */
  report(): string {
    const path = writeCsv(this.scenario, this.stamp, this.results);
    const load = `load average (1 min) at start ${this.loadAtStart.toFixed(2)}, at end ${(loadavg()[0] ?? 0).toFixed(2)}`;
    process.stdout.write(`\n## ${this.scenario} (${new Date().toISOString()}; ${load})\n\n${resultsTable(this.results)}\n\nCSV: ${path}\n`);
    return path;
  }

  private async stopAll(): Promise<void> {
    await Promise.allSettled([...this.running].map((system) => system.stop()));
  }
}

/** Runs a scenario's main function and sets the exit code (1 on any failure). */
export function main(body: () => Promise<void>): void {
  body().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
