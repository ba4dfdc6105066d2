import type { KeyAnswer, KeyRecord } from '../keys/types.ts';
import type { Db } from './open-store.ts';

/** Reads the stored answers of earlier live lookups, so that a later run can go offline. */
export function dnsCacheReader(db: Db): (name: string) => KeyAnswer | null {
  const get = db.prepare('SELECT status, records_json, detail FROM dns_cache WHERE name = ?');
  return (name) => {
    const row = get.get(name) as { status: string; records_json: string; detail: string | null } | undefined;
    if (!row) return null;
    if (row.status === 'found') return { status: 'found', name, records: JSON.parse(row.records_json) as KeyRecord[] };
    if (row.status === 'absent') return { status: 'absent', name, detail: row.detail ?? 'absent' };
    return null; // a stored failure is worth asking again
  };
}
