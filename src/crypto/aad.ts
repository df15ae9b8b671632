/**
 * The contexts (AES-GCM additional data) that queue jobs' payloads are sealed under, one per kind
 * of payload, so a payload sealed for one queue does not open as another's. Kept beside the
 * keyring, below the queues, so the case log can name them too (a rotation re-seals quarantined
 * intake jobs) without importing BullMQ.
 */
export const SEAL_AAD_INTAKE = 'intake-job';
export const SEAL_AAD_INTAKE_CONTEXT = 'intake-job-context';
export const SEAL_AAD_OUTBOUND = 'outbound-job';
export const SEAL_AAD_MEDIA = 'media-job';
/** What the platform answered for an outbound job already sent, kept until its record is written. */
export const SEAL_AAD_OUTBOUND_SENT = 'outbound-sent';
/** A payload an adapter or `ingest` could not turn into a report (the quarantine table). */
export const SEAL_AAD_QUARANTINE = 'quarantine';
