/** Recent sessions (metadata only) in IndexedDB, via Dexie. Kept to the last 50. */
import Dexie, { type EntityTable } from "dexie";
import type { HistoryEntry } from "~src/messages";

const KEEP = 50;

class HistoryDb extends Dexie {
  sessions!: EntityTable<HistoryEntry, "id">;
  constructor() {
    super("glimpse");
    this.version(1).stores({ sessions: "++id, sessionKey, startedAt" });
  }
}

const db = new HistoryDb();

export async function historyStart(entry: Omit<HistoryEntry, "id" | "endedAt" | "endReason" | "agents">): Promise<void> {
  await db.sessions.add({ ...entry, endedAt: null, endReason: null, agents: [] });
  const count = await db.sessions.count();
  if (count > KEEP) {
    const old = await db.sessions.orderBy("startedAt").limit(count - KEEP).primaryKeys();
    await db.sessions.bulkDelete(old);
  }
}

export async function historyEnd(sessionKey: string, endedAt: number, endReason: HistoryEntry["endReason"], agents: string[]): Promise<void> {
  const open = await db.sessions.where("sessionKey").equals(sessionKey).filter((s) => s.endedAt === null).last();
  if (open?.id !== undefined) await db.sessions.update(open.id, { endedAt, endReason, agents });
}

export function recentSessions(limit = 10): Promise<HistoryEntry[]> {
  return db.sessions.orderBy("startedAt").reverse().limit(limit).toArray();
}
