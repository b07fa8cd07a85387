/** The client errors the operations answer with (Directus error codes, so the API and app show them). */
import { createError } from '@directus/errors';

export const InvalidPayload = createError<{ reason: string }>(
	'INVALID_PAYLOAD',
	({ reason }) => `Invalid payload. ${reason}.`,
	400,
);

export const Forbidden = createError<{ reason: string }>('FORBIDDEN', ({ reason }) => `Forbidden. ${reason}.`, 403);

export const NotFound = createError<{ reason: string }>('ROUTE_NOT_FOUND', ({ reason }) => `Not found. ${reason}.`, 404);

export const ServiceUnavailable = createError<{ reason: string }>(
	'SERVICE_UNAVAILABLE',
	({ reason }) => `Service unavailable. ${reason}.`,
	503,
);
