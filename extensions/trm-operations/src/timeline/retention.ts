/**
 * The part log (trm_audit.entry_rows, db-init/post/116) is kept as long as Directus keeps activity:
 * with RETENTION_ENABLED, rows older than ACTIVITY_RETENTION are deleted daily, in batches (the same
 * way Directus trims directus_activity), so the timeline never holds values whose activity is gone.
 */
import type { Db } from '../shared/types';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86_400e3, w: 7 * 86_400e3, y: 365.25 * 86_400e3 };

/** A duration as Directus reads its retention settings ("400d", "12h", "90 d", or milliseconds); null when it cannot be read. */
export function durationMs(value: unknown): number | null {
	if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : null;
	const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)?$/.exec(String(value ?? '').trim());
	if (!m) return null;
	const ms = Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
	return ms > 0 ? ms : null;
}

/** Delete part-log rows older than `ms`, `batch` at a time; how many. */
export async function trimPartLog(db: Db, ms: number, batch = 1000): Promise<number> {
	let total = 0;
	for (;;) {
		const result = (await db.raw(
			`DELETE FROM trm_audit.entry_rows WHERE id IN (
			   SELECT id FROM trm_audit.entry_rows WHERE at < now() - make_interval(secs => ?) ORDER BY at LIMIT ?)`,
			[ms / 1000, batch],
		)) as { rowCount?: number };
		const n = Number(result.rowCount ?? 0);
		total += n;
		if (n < batch) return total;
	}
}
