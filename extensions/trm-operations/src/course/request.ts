/**
 * The course-edit recompute request: saving a waypoint, geofence or speed zone of a stage that has run
 * records one in the recompute outbox (recompute_requests: db-init/010, its course-edit columns db-init/114), delivered to the same
 * stream as the faulty flag as a version 2 message (extensions/README.md "The stream message").
 */
import type { Row } from '../shared/types';

export interface CourseEditRequest {
	kind: 'course-edit';
	id: string;
	stage_id: string;
	object_collection: string;
	object_id: string;
	changed_fields: string[];
	reason: string;
	requested_by: string | null;
	requested_at: Date;
}

export function toCourseEdit(row: Row): CourseEditRequest {
	return {
		kind: 'course-edit',
		id: String(row['id']),
		stage_id: String(row['stage_id']),
		object_collection: String(row['object_collection']),
		object_id: String(row['object_id']),
		changed_fields: (row['changed_fields'] as string[] | null) ?? [],
		reason: String(row['reason']),
		requested_by: row['requested_by'] === null ? null : String(row['requested_by']),
		requested_at: new Date(row['requested_at'] as string),
	};
}

/** The stream entry's field/value pairs of a course edit, in a fixed order. */
export function courseEditFields(r: CourseEditRequest): string[] {
	return [
		'version', '2',
		'request_id', r.id,
		'kind', 'course-edit',
		'stage_id', r.stage_id,
		'object_collection', r.object_collection,
		'object_id', r.object_id,
		'changed_fields', r.changed_fields.join(','),
		'reason', r.reason,
		'requested_by', r.requested_by ?? '',
		'requested_at', r.requested_at.toISOString(),
	];
}
