// One bounded run of the sync worker: drains crm_inbound and crm_outbound in
// batches until both are empty, the time budget is spent or it has claimed
// its share of messages (CPU per invocation is limited too), per connection,
// so one CRM that is down or rate-limited never holds up another. Failures
// go back to the queue with backoff (sync.fail_messages); a 429 pauses only
// its connection. When time runs out with work left, the next run is kicked.
import type { CrmAdapter } from '../providers/adapter.ts';
import { ProviderError } from '../providers/adapter.ts';
import { type InboundStats, syncInbound } from './inbound.ts';
import { type OutboundMessage, type OutboundStats, syncOutbound } from './outbound.ts';
import { BudgetExhaustedError } from './rate-budget.ts';
import type { ConnectionInfo, QueueMessage, QueueName, SyncDb } from './sync-db.ts';

export interface WorkerOptions {
  /** Wall-clock budget of this run; keep well under the function limit. */
  budgetMs: number;
  /**
   * Messages one run claims at most before it hands over to the next run.
   * CPU grows with the messages handled (about 0.1 ms each, measured by
   * `npm run bench`), and the hosted runtime allows 2 s of CPU per
   * invocation: a run that drains a large backlog within its wall-clock
   * budget would pass that.
   */
  maxMessages?: number;
  batchSize: number;
  /** How long claimed messages stay invisible to other runs. */
  visibilitySeconds: number;
  /**
   * CPU (ms) after which the run claims no more batches and hands over: a
   * steady trickle of changes costs more per message than a backlog (each
   * small batch pays the fixed costs), so counting messages alone let a run
   * under load pass the hosted 2 s. Needs WorkerDeps.cpuMs.
   */
  cpuBudgetMs?: number;
}

export const defaultWorkerOptions: Required<WorkerOptions> = {
  budgetMs: 25_000, maxMessages: 5_000, batchSize: 500, visibilitySeconds: 120, cpuBudgetMs: 1_500,
};

export interface WorkerReport {
  batches: number;
  inbound: InboundStats;
  outbound: OutboundStats;
  retried: number;
  deadLettered: number;
  paused: string[];
  moreWork: boolean;
  elapsedMs: number;
}

export interface WorkerDeps {
  db: SyncDb;
  /** The adapter of a connection, built once per run (credentials, value maps, rate budget). */
  adapterFor(connection: ConnectionInfo, deadline: () => number): Promise<CrmAdapter>;
  kickNextRun(): Promise<void>;
  log(line: string): void;
  now?: () => number;
  /** CPU time used so far by this process, in ms (NaN when unknown: no CPU bound then). */
  cpuMs?: () => number;
}

export async function runSyncWorker(deps: WorkerDeps, options: WorkerOptions = defaultWorkerOptions): Promise<WorkerReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const deadline = () => started + options.budgetMs;
  const report: WorkerReport = {
    batches: 0,
    inbound: { skipped: 0, fetched: 0, created: 0, updated: 0, deleted: 0, stale: 0, merged: 0, erased: 0, conflicts: 0 },
    outbound: { created: 0, updated: 0, archived: 0, merged: 0, erased: 0, unchanged: 0, waiting: 0, failed: 0 },
    retried: 0,
    deadLettered: 0,
    paused: [],
    moreWork: false,
    elapsedMs: 0,
  };
  const connections = new Map<string, ConnectionInfo | null>();
  const adapters = new Map<string, Promise<CrmAdapter>>();
  const connectionOf = async (id: string) => {
    if (!connections.has(id)) connections.set(id, await deps.db.connection(id));
    return connections.get(id)!;
  };
  const adapterOf = (connection: ConnectionInfo) => {
    if (!adapters.has(connection.id)) adapters.set(connection.id, deps.adapterFor(connection, deadline));
    return adapters.get(connection.id)!;
  };

  // Leave time for the last batch to finish inside the budget.
  const stopAt = () => deadline() - Math.min(10_000, options.budgetMs / 3);
  const maxMessages = options.maxMessages ?? defaultWorkerOptions.maxMessages;
  const cpuFrom = deps.cpuMs?.() ?? Number.NaN;
  const cpuSpent = () => (deps.cpuMs?.() ?? Number.NaN) - cpuFrom;
  const cpuBudgetMs = options.cpuBudgetMs ?? defaultWorkerOptions.cpuBudgetMs;
  let claimed = 0;
  const runId = crypto.randomUUID();
  try {
    while (now() < stopAt()) {
      if (claimed >= maxMessages || cpuSpent() >= cpuBudgetMs) {
        // Enough for one invocation's CPU: the next run takes the rest (and
        // whatever was queued while this run held the lease).
        report.moreWork = true;
        break;
      }
      await deps.db.holdWorkerLease(runId, Math.ceil(options.budgetMs / 1000) + 30);
      let inbound = await deps.db.readQueue('crm_inbound', options.visibilitySeconds, options.batchSize);
      let outbound = await deps.db.readQueue('crm_outbound', options.visibilitySeconds, options.batchSize);
      if (inbound.length === 0 && outbound.length === 0) {
        // Empty: release the lease, then look once more. Work queued while the
        // lease was held did not kick anyone, so this run must pick it up.
        await deps.db.releaseWorkerLease(runId);
        inbound = await deps.db.readQueue('crm_inbound', options.visibilitySeconds, options.batchSize);
        outbound = await deps.db.readQueue('crm_outbound', options.visibilitySeconds, options.batchSize);
        if (inbound.length === 0 && outbound.length === 0) {
          report.moreWork = false;
          break;
        }
        await deps.db.holdWorkerLease(runId, Math.ceil(options.budgetMs / 1000) + 30);
      }
      report.batches++;
      claimed += inbound.length + outbound.length;

      for (const [connectionId, messages] of groupByConnection(inbound)) {
        await runForConnection(deps, report, 'crm_inbound', connectionId, messages, connectionOf, async (connection) => {
          const stats = await syncInbound(deps.db, await adapterOf(connection), connectionId, messages.map((m) => m.message.event));
          addInto(report.inbound, stats);
          return messages.map((m) => m.msg_id);
        });
      }
      for (const [connectionId, messages] of groupByConnection(outbound)) {
        await runForConnection(deps, report, 'crm_outbound', connectionId, messages, connectionOf, async (connection) => {
          const result = await syncOutbound(deps.db, await adapterOf(connection), connectionId,
            messages as unknown as QueueMessage<OutboundMessage>[]);
          addInto(report.outbound, result.stats);
          for (const r of result.retry) {
            if (r.waitMs === undefined) {
              report.retried += (await deps.db.failMessages('crm_outbound', r.ids, r.error)).retried;
            } else {
              // Refused by the rate limit: the connection waits out the window, the records keep their attempts.
              await deps.db.pauseConnection(connectionId, r.waitMs, r.error);
              await deps.db.delayMessages('crm_outbound', r.ids, r.waitMs / 1000);
              if (!report.paused.includes(connectionId)) report.paused.push(connectionId);
            }
          }
          for (const r of result.rejected) {
            report.deadLettered += (await deps.db.failMessages('crm_outbound', r.ids, r.error, 1)).dead_lettered;
          }
          return result.done;
        });
      }
      // A full batch means the queue may hold more: if time runs out now, the next run takes it.
      report.moreWork = inbound.length === options.batchSize || outbound.length === options.batchSize;
    }
  } finally {
    await deps.db.releaseWorkerLease(runId);
  }
  if (report.moreWork) await deps.kickNextRun();
  report.elapsedMs = now() - started;
  return report;
}

type Message = QueueMessage<{ connection_id?: string; event?: unknown }>;

function groupByConnection(messages: QueueMessage[]): Map<string, Message[]> {
  const groups = new Map<string, Message[]>();
  for (const m of messages as Message[]) {
    const id = String(m.message.connection_id ?? '');
    groups.set(id, [...(groups.get(id) ?? []), m]);
  }
  return groups;
}

/**
 * Runs one connection's share of a batch. `work` returns the ids that are
 * done; everything else in `messages` is retried. Whole-call provider
 * failures pause or retry this connection only.
 */
async function runForConnection(
  deps: WorkerDeps,
  report: WorkerReport,
  queue: QueueName,
  connectionId: string,
  messages: Message[],
  connectionOf: (id: string) => Promise<ConnectionInfo | null>,
  work: (connection: ConnectionInfo) => Promise<number[]>,
) {
  const ids = messages.map((m) => m.msg_id);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(connectionId)) {
    report.deadLettered += (await deps.db.failMessages(queue, ids, `malformed message: no connection_id`, 1)).dead_lettered;
    return;
  }
  const connection = await connectionOf(connectionId);
  if (!connection) {
    report.deadLettered += (await deps.db.failMessages(queue, ids, `connection ${connectionId} no longer exists`, 1)).dead_lettered;
    return;
  }
  if (!connection.enabled || connection.auth_status === 'needs_reauth') {
    // Kept until the connection is enabled or re-authorized again (sync.resume_connection makes them visible at once).
    await deps.db.delayMessages(queue, ids, 300);
    return;
  }
  try {
    const done = await work(connection);
    await deps.db.deleteMessages(queue, done);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ProviderError && error.kind === 'rate_limited') {
      const waitMs = error.retryAfterMs ?? 10_000;
      await deps.db.pauseConnection(connectionId, waitMs, message);
      await deps.db.delayMessages(queue, ids, waitMs / 1000);
      report.paused.push(connectionId);
    } else if (error instanceof ProviderError && error.kind === 'unauthorized') {
      // Retrying cannot help until someone re-authorizes: pause the connection, keep its work, raise an alert.
      deps.log(`${queue} ${connection.provider}:${connection.account_id}: needs re-authorization: ${message}`);
      await deps.db.markNeedsReauth(connectionId, message);
      await deps.db.delayMessages(queue, ids, 300);
      report.paused.push(connectionId);
    } else if (error instanceof BudgetExhaustedError) {
      await deps.db.delayMessages(queue, ids, error.waitMs / 1000);
    } else {
      deps.log(`${queue} ${connection.provider}:${connection.account_id}: ${message}`);
      const result = await deps.db.failMessages(queue, ids, message);
      report.retried += result.retried;
      report.deadLettered += result.dead_lettered;
    }
  }
}

function addInto<T extends object>(target: T, source: T) {
  for (const key of Object.keys(source) as (keyof T)[]) (target[key] as number) += source[key] as number;
}
