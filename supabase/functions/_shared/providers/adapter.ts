// The one interface every CRM adapter implements. The engine (sync/*.ts)
// speaks only this; a provider's HTTP, batching, paging and mapping stay
// behind it.
import type { EntityType, RemoteRecord, UnmappedValue } from '../model/unified.ts';

export type Provider = 'hubspot' | 'pipedrive';

/**
 * What the webhook of the engine's own write says it changed, for fields a
 * CRM writes only together (a Pipedrive person's name parts): `before` what
 * the CRM held just before the write, `after` what the write left. A field
 * the write changed though the engine was not asked to write it held an edit
 * the engine never saw (inbound.ts, overwrittenEdits).
 */
export interface OwnWriteChange {
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/**
 * What a provider event asks the engine to do with one record. `lastKnown`:
 * reads the record as the event carried it (Pipedrive's `data`, a deletion's
 * `previous`), applied before a deletion the fetch finds, so that an edit made
 * just before the deletion is kept should the record live on (inbound.ts).
 * Read only then: most records are not gone. `restored`: the record came
 * back from a deletion, and with it its associations (see CrmAdapter.referrers).
 */
export type InboundWork =
  | { kind: 'fetch'; entityType: EntityType; remoteId: string; occurredAt: number; ownWrite?: OwnWriteChange;
      lastKnown?: () => RemoteRecord | undefined; restored?: boolean }
  | { kind: 'delete'; entityType: EntityType; remoteId: string; occurredAt: number; lastKnown?: () => RemoteRecord | undefined }
  | { kind: 'merge'; entityType: EntityType; primaryRemoteId: string; mergedRemoteIds: string[]; occurredAt: number }
  | { kind: 'erase'; entityType: EntityType; remoteId: string; occurredAt: number };

export interface CreateInput {
  localId: string;
  fields: Record<string, unknown>;
  references: Record<string, string>;
}

export interface UpdateInput {
  localId: string;
  remoteId: string;
  fields: Record<string, unknown>;
  references: Record<string, string | null>;
  baseReferences: Record<string, string | null>;
  /** The fields as last written (the shadow), for a CRM that writes some fields only whole (a Pipedrive person's name). */
  base?: Record<string, unknown>;
}

/** The outcome of one record's write. A failed record carries whether retrying can help. */
export type WriteResult =
  | { localId: string; ok: true; remoteId: string; remoteUpdatedAt: string; written: Record<string, unknown>;
      references: Record<string, string | null>; unmapped: UnmappedValue[] }
  /** retryAfterMs: refused by the CRM's rate limit, not for the record's sake; write it again after that long. */
  | { localId: string; ok: false; retryable: boolean; error: string; retryAfterMs?: number };

export interface CrmAdapter {
  readonly provider: Provider;
  /** Turns the provider's webhook events (as queued) into work items. */
  interpretEvents(events: unknown[]): InboundWork[];
  /** Current state of records; ids the CRM no longer has come back archived. */
  fetchRecords(entityType: EntityType, remoteIds: string[]): Promise<RemoteRecord[]>;
  /** Creates records idempotently: a retry after a crash finds the record made before. */
  createRecords(entityType: EntityType, inputs: CreateInput[]): Promise<WriteResult[]>;
  updateRecords(entityType: EntityType, inputs: UpdateInput[]): Promise<WriteResult[]>;
  archiveRecords(entityType: EntityType, inputs: { localId: string; remoteId: string }[]): Promise<WriteResult[]>;
  /** Merges records made one in the app: each merged remote record is folded into the survivor's. */
  mergeRecords(entityType: EntityType, inputs: MergeInput[]): Promise<MergeResult[]>;
  /** One page of every live record of a type (backfill, reconciliation). The cursor is opaque to the engine; null starts. */
  listRecords(entityType: EntityType, cursor: string | null): Promise<RecordPage>;
  /**
   * One page of records changed at or after `since` (ISO 8601), deletions included
   * as archived records where the CRM reports them (incremental sync).
   */
  listChangedSince(entityType: EntityType, since: string, cursor: string | null): Promise<RecordPage>;
  /** Erases people for GDPR: gone from the CRM for good, not only archived. */
  eraseContacts(remoteIds: string[]): Promise<EraseResult[]>;
  /**
   * The records that reference these ones (a company's contacts and deals...).
   * A CRM that restores a deleted record's associations with it, without an
   * event for the records on their other end (HubSpot), leaves those records
   * as last read: a contact read while its company was deleted lost the
   * company. The engine reads them again. Absent: the CRM needs no such read.
   */
  referrers?(entityType: EntityType, remoteIds: string[]): Promise<{ entityType: EntityType; remoteId: string }[]>;
}

export interface MergeInput {
  survivorLocalId: string;
  survivorRemoteId: string;
  mergedRemoteId: string;
}

/** The outcome of one merge. A failed merge carries whether retrying can help. */
export type MergeResult =
  | { survivorLocalId: string; mergedRemoteId: string; ok: true }
  | { survivorLocalId: string; mergedRemoteId: string; ok: false; retryable: boolean; error: string };

/** One page of a listing; nextCursor is null on the last page. */
export interface RecordPage {
  records: RemoteRecord[];
  nextCursor: string | null;
  /**
   * listChangedSince only: the end of the window this listing covers (changes
   * at or after it are left to the next run, which should start here). The
   * same on every page of one listing.
   */
  until?: string;
}

export type EraseResult = { remoteId: string; ok: true } | { remoteId: string; ok: false; retryable: boolean; error: string };

/** Thrown by adapters for failures of a whole call (not of single records). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly kind: 'rate_limited' | 'unavailable' | 'unauthorized' | 'invalid',
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
