/**
 * The floor of a closed loop of N appenders in V8: each awaits a promise that a setImmediate batch
 * resolves, with no engine and no I/O behind it. What any promise-per-append API pays per entry
 * before doing anything (compare with a ceiling's per-entry budget).
 */
const N = Number(process.env.N ?? 256);
let queue: Array<(offset: number) => void> = [];
let scheduled = false;
let offset = 0;
function flush(): void {
  scheduled = false;
  const q = queue;
  queue = [];
  for (const resolve of q) resolve(offset++);
}
function append(): Promise<number> {
  return new Promise((resolve) => {
    queue.push(resolve);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}
let stop = false;
let count = 0;
setTimeout(() => (stop = true), Number(process.env.DUR ?? 2000));
const t0 = performance.now();
const c0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: N }, async () => {
    while (!stop) {
      await append();
      count++;
    }
  }),
);
const cpu = process.cpuUsage(c0);
console.log(`${N} awaiting appenders, no engine: ${Math.round((count / (performance.now() - t0)) * 1000)}/s, ${((cpu.user + cpu.system) / count).toFixed(3)} µs CPU per append`);
