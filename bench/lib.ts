/** Small helpers shared by the benchmarks: percentiles, process CPU, child servers, the report. */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (values: number[]) => percentile(values, 50);
export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

export interface ChildServer {
  port: number;
  pid: number;
  child: ChildProcess;
  /** Ask the child something over IPC (e.g. its memory after a GC). */
  ask<T>(message: object): Promise<T>;
  stop(): Promise<void>;
}

/** Start a bench server script (TypeScript, via tsx) as a child process; it reports its port. */
export function startChild(script: string, env: Record<string, string> = {}, execArgv: string[] = []): Promise<ChildServer> {
  const child = fork(script, [], { execArgv: ["--import", "tsx", ...execArgv], env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
    child.once("message", (message: { port: number }) => {
      child.removeAllListeners("exit");
      resolve({
        port: message.port,
        pid: child.pid!,
        child,
        ask<T>(question: object) {
          return new Promise<T>((answer) => {
            child.once("message", (reply) => answer(reply as T));
            child.send(question);
          });
        },
        stop() {
          return new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          });
        },
      });
    });
  });
}

export interface Row {
  figure: string;
  value: string;
  budget: string;
  met: boolean | null;
}

export function printTable(title: string, rows: Row[]): void {
  const widths = [Math.max(...rows.map((r) => r.figure.length), 6), Math.max(...rows.map((r) => r.value.length), 5), Math.max(...rows.map((r) => r.budget.length), 6)];
  console.log(`\n${title}`);
  console.log(`${"figure".padEnd(widths[0]!)} | ${"value".padEnd(widths[1]!)} | ${"budget".padEnd(widths[2]!)} | met`);
  for (const row of rows) {
    const met = row.met === null ? "—" : row.met ? "yes" : "NO";
    console.log(`${row.figure.padEnd(widths[0]!)} | ${row.value.padEnd(widths[1]!)} | ${row.budget.padEnd(widths[2]!)} | ${met}`);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
