/**
 * Start slots and control closing times (pure).
 *
 * Every segment of a stage gets the same start position per entry. The entry's first segment is due at
 * stages.starts_at + (position − 1) × start_interval_seconds; each next segment at the previous one's
 * target + its target_duration_seconds (the time allowed, as on a time card). Once a previous segment has
 * no target duration, later targets are unknown (NULL) until a timekeeper sets them.
 * A segment's controls close at its last scheduled start + max_duration_seconds (NULL without either).
 */

export interface SegmentTimes {
	id: string;
	target_duration_seconds: number | null;
	max_duration_seconds: number | null;
}

export interface Slot {
	entry_id: string;
	segment_id: string;
	start_position: number;
	target_at: Date | null;
}

/** Slots for `order` (entry ids, position 1 first) over the stage's segments in sort order. */
export function startSlots(order: readonly string[], segments: readonly SegmentTimes[], startsAt: Date, intervalSeconds: number): Slot[] {
	const slots: Slot[] = [];
	order.forEach((entry, i) => {
		let at: number | null = startsAt.getTime() + i * intervalSeconds * 1000;
		for (const seg of segments) {
			slots.push({ entry_id: entry, segment_id: seg.id, start_position: i + 1, target_at: at === null ? null : new Date(at) });
			at = at === null || seg.target_duration_seconds === null ? null : at + seg.target_duration_seconds * 1000;
		}
	});
	return slots;
}

/** When a segment's controls close: the latest scheduled start + the maximum time; null without either. */
export function closingTime(targets: readonly (Date | null)[], maxDurationSeconds: number | null): Date | null {
	if (maxDurationSeconds === null) return null;
	let last: number | null = null;
	for (const t of targets) if (t !== null && (last === null || t.getTime() > last)) last = t.getTime();
	return last === null ? null : new Date(last + maxDurationSeconds * 1000);
}
