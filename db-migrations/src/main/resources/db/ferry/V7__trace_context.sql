-- Trace propagation: the job's W3C trace context (`00-<trace id>-<parent id>-<flags>`), from the
-- submission record's `traceparent` header or fresh. Work items, attempt reports and events of
-- the job carry it as the same header; children share their parent's.
ALTER TABLE ferry.jobs ADD COLUMN IF NOT EXISTS traceparent text;
