-- What makes a station's step fewer round trips to the server.

-- The audit chain's head for a writer about to append: the appenders' advisory lock is taken
-- (held until the transaction ends), then the newest entry read as it stands once the lock is
-- held. A VOLATILE function takes a fresh snapshot for each statement it runs, so an entry
-- committed while this writer waited for the lock is the head it reads, as when the lock and
-- the read were two statements; no row for an empty log.
CREATE FUNCTION audit_log_head(lock_key BIGINT) RETURNS TABLE (id BIGINT, hash TEXT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY SELECT a.id, a.hash FROM audit_log a ORDER BY a.id DESC LIMIT 1;
END $$;
