-- version: 2
-- accounting_journal_day_close: close the journal day p_day, [p_starts, p_ends), and write
-- each account's totals of its lines; returns how many accounts had lines. Days close in
-- order (the first closed day may be any), only once they are over, and only once: a day's
-- totals never change, because the entries' commit check (entry_checks.sql) refuses any
-- entry posted before the end of the last closed day. Taking each of the day's posting
-- hours' locks exclusively waits for the entries of the day still committing; their own
-- check then sees the day closed, so none can commit after the totals are read.
CREATE OR REPLACE FUNCTION accounting_journal_day_close(
    p_day date, p_starts timestamptz, p_ends timestamptz
) RETURNS integer
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    last_day date;
    last_end timestamptz;
    hour integer;
    accounts integer;
BEGIN
    IF p_ends <= p_starts OR p_ends > now() THEN
        RAISE EXCEPTION 'journal day % [%, %) is not over', p_day, p_starts, p_ends
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT d.day, d.ends_at INTO last_day, last_end
      FROM accounting_closedday d ORDER BY d.day DESC LIMIT 1;
    IF last_day IS NOT NULL AND (p_day <> last_day + 1 OR p_starts <> last_end) THEN
        RAISE EXCEPTION 'journal day % does not follow the last closed day %', p_day, last_day
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR hour IN floor(extract(epoch FROM p_starts) / 3600)::integer
             .. floor(extract(epoch FROM p_ends - interval '1 microsecond') / 3600)::integer LOOP
        PERFORM pg_advisory_xact_lock({{ LockNamespace.JOURNAL_HOUR }}, hour);
    END LOOP;
    INSERT INTO accounting_closedday (day, starts_at, ends_at, closed_at)
    VALUES (p_day, p_starts, p_ends, now());
    INSERT INTO accounting_accountdaytotal (account_id, day_id, debit, credit, lines)
    SELECT l.account_id, p_day,
           coalesce(sum(l.amount) FILTER (WHERE l.side = {{ Side.DEBIT }}), 0),
           coalesce(sum(l.amount) FILTER (WHERE l.side = {{ Side.CREDIT }}), 0),
           count(*)
      FROM accounting_journalentry e
      -- Each of the day's entries reads its own lines by index (OFFSET 0 keeps the planner
      -- from flattening this into a join), so the cost follows the day's entries whatever
      -- the statistics: with stale ones a hash join read every line of the journal.
      CROSS JOIN LATERAL (
          SELECT l.account_id, l.side, l.amount FROM accounting_journalline l
           WHERE l.entry_id = e.id OFFSET 0
      ) l
     WHERE e.posted_at >= p_starts AND e.posted_at < p_ends
     GROUP BY l.account_id;
    GET DIAGNOSTICS accounts = ROW_COUNT;
    RETURN accounts;
END;
$$;
