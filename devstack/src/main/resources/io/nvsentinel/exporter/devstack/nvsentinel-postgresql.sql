-- The parts of NVSentinel's PostgreSQL store the exporter reads, as that store lays them out
-- (written for this project from the facts of NVSentinel's schema: table and column names, the
-- change-log trigger and its notification channel).

CREATE TABLE IF NOT EXISTS health_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    node_name VARCHAR(255) NOT NULL,
    event_type VARCHAR(100),
    document JSONB NOT NULL,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS health_events_by_creation ON health_events (created_at, id);

CREATE TABLE IF NOT EXISTS datastore_changelog (
    id BIGSERIAL PRIMARY KEY,
    table_name VARCHAR(100) NOT NULL,
    record_id UUID NOT NULL,
    operation VARCHAR(20) NOT NULL,
    old_values JSONB,
    new_values JSONB,
    changed_at TIMESTAMPTZ DEFAULT NOW(),
    processed BOOLEAN DEFAULT FALSE
);

CREATE TABLE IF NOT EXISTS resume_tokens (
    client_name VARCHAR(255) PRIMARY KEY,
    resume_token JSONB NOT NULL,
    last_updated TIMESTAMPTZ DEFAULT NOW()
);

-- every change of a row lands in the change log, and listeners hear of it
CREATE OR REPLACE FUNCTION record_health_event_change() RETURNS TRIGGER AS $$
DECLARE
    logged BIGINT;
    row_id UUID;
BEGIN
    row_id := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    INSERT INTO datastore_changelog (table_name, record_id, operation, old_values, new_values)
    VALUES (
        TG_TABLE_NAME,
        row_id,
        TG_OP,
        CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
        CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END)
    RETURNING id INTO logged;
    PERFORM pg_notify('nvsentinel_changes',
        json_build_object('id', logged, 'table', TG_TABLE_NAME, 'operation', TG_OP)::text);
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS health_events_changes ON health_events;
CREATE TRIGGER health_events_changes
    AFTER INSERT OR UPDATE OR DELETE ON health_events
    FOR EACH ROW EXECUTE FUNCTION record_health_event_change();

-- NVSentinel's maintenance of the change log: rows up to an id are marked processed, and processed
-- rows older than the retention are deleted
CREATE OR REPLACE FUNCTION mark_changelog_processed(max_id BIGINT) RETURNS INTEGER AS $$
DECLARE
    marked INTEGER;
BEGIN
    UPDATE datastore_changelog SET processed = TRUE WHERE id <= max_id AND processed = FALSE;
    GET DIAGNOSTICS marked = ROW_COUNT;
    RETURN marked;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION cleanup_changelog(retention_days INTEGER DEFAULT 7) RETURNS INTEGER AS $$
DECLARE
    deleted INTEGER;
BEGIN
    DELETE FROM datastore_changelog
    WHERE processed = TRUE AND changed_at < NOW() - INTERVAL '1 day' * retention_days;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END;
$$ LANGUAGE plpgsql;
