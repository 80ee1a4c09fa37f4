/**
 * The simulator's clock for record timestamps and webhook `occurredAt`.
 * Tests can shift it or freeze it (to give many records one shared
 * modification time, the case that breaks timestamp-only cursors).
 */

export interface SimulatorClock {
  now(): number;
  advance(ms: number): void;
  freeze(atMs?: number): void;
  unfreeze(): void;
  reset(): void;
  describe(): { now: string; offsetMs: number; frozen: boolean };
}

export function createClock(): SimulatorClock {
  let offsetMs = 0;
  let frozenAt: number | null = null;
  return {
    now: () => frozenAt ?? Date.now() + offsetMs,
    advance(ms) {
      if (frozenAt !== null) frozenAt += ms;
      else offsetMs += ms;
    },
    freeze(atMs) {
      frozenAt = atMs ?? Date.now() + offsetMs;
    },
    unfreeze() {
      if (frozenAt !== null) offsetMs = frozenAt - Date.now();
      frozenAt = null;
    },
    reset() {
      offsetMs = 0;
      frozenAt = null;
    },
    describe() {
      const now = frozenAt ?? Date.now() + offsetMs;
      return { now: new Date(now).toISOString(), offsetMs, frozen: frozenAt !== null };
    },
  };
}
