// CPU per sync-worker invocation, from the gateway's log line for each
// request ("... /functions/v1/sync-worker 200 812ms cpu≈40ms"): the CPU time
// (user + system, /proc ticks of 10 ms) the function's process used while
// the request ran. Runs that overlap share one process, so each of them is
// charged the other's CPU as well: the figures are upper bounds.
import fs from 'node:fs';
import { summarize } from '../stats.mjs';

const linePattern = /^(\S+) \[gateway\] (\w+) \/functions\/v1\/([\w-]+)\S* (\d+) (\d+)ms cpu≈(\d+)ms/;

/** Gateway request lines of the services log: { at, fn, status, wallMs, cpuMs }. */
export function readGatewayLog(file) {
  if (!fs.existsSync(file)) return [];
  const entries = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = line.match(linePattern);
    if (!match) continue;
    entries.push({ at: Date.parse(match[1]), method: match[2], fn: match[3], status: Number(match[4]), wallMs: Number(match[5]), cpuMs: Number(match[6]) });
  }
  return entries;
}

/** Per phase and overall: how many sync-worker runs, their CPU and wall time. */
export function workerCpu(logFile, phases, budgetMs = 2_000) {
  const runs = readGatewayLog(logFile).filter((e) => e.fn === 'sync-worker' && e.method === 'POST');
  const describe = (list) => ({
    invocations: list.length,
    cpuMs: summarize(list.map((r) => r.cpuMs)),
    wallMs: summarize(list.map((r) => r.wallMs)),
    overBudget: list.filter((r) => r.cpuMs > budgetMs).length,
  });
  const byPhase = {};
  for (const phase of phases) {
    byPhase[phase.name] = describe(runs.filter((r) => r.at >= phase.startedAt && r.at <= phase.endedAt));
  }
  return { budgetMs, all: describe(runs), byPhase };
}

/**
 * Where a webhook request's time goes, from the services log of a time
 * range: the handler's own measure (its JSON log line's "ms": verify, parse,
 * store) and the gateway's (handler plus the hop through the gateway).
 */
export function webhookTimes(logFile, from, to, fn = 'hubspot-webhook') {
  const gateway = readGatewayLog(logFile).filter((e) => e.fn === fn && e.at >= from && e.at <= to);
  const handlerMs = [];
  if (fs.existsSync(logFile)) {
    for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
      const match = line.match(/^(\S+) \[([\w-]+)\] (\{.*\})$/);
      if (!match || match[2] !== fn) continue;
      const at = Date.parse(match[1]);
      if (at < from || at > to) continue;
      try {
        const entry = JSON.parse(match[3]);
        if (entry.status === 200 && typeof entry.ms === 'number') handlerMs.push(entry.ms);
      } catch { /* not a request line */ }
    }
  }
  return { gatewayMs: summarize(gateway.map((e) => e.wallMs)), handlerMs: summarize(handlerMs) };
}
