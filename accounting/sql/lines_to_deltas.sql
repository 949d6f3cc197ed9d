-- version: 3
-- For each statement that inserts journal lines, whoever sends it:
-- 1. refuse lines beyond an entry's declared count, so nothing can be added to an entry
--    committed earlier (the entry's own deferred check sees the complete entry at commit);
-- 2. insert one balance delta per account touched, signed on the account's normal side;
-- 3. insert one balance-change log row per entry and liability account; its balance_after is
--    set when the change is dispatched (accounting.services.balance_changes_dispatch), so
--    nothing here reads pending deltas and a posting costs the same whatever the backlog.
--
-- No plan of this function may scan a growing table sequentially, whatever the planner's
-- statistics say (a fresh deployment, or tables past a statistics cliff before autovacuum's
-- next ANALYZE): every table it reads has the index the lookup needs.
CREATE OR REPLACE FUNCTION accounting_lines_posted() RETURNS trigger
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    over_entry bigint;
    declared integer;
    actual bigint;
BEGIN
    SELECT n.entry_id, e.line_count, count(l.id)
      INTO over_entry, declared, actual
      FROM (SELECT DISTINCT entry_id FROM new_lines) n
      JOIN accounting_journalentry e ON e.id = n.entry_id
      JOIN accounting_journalline l ON l.entry_id = n.entry_id
     GROUP BY n.entry_id, e.line_count
    HAVING count(l.id) > e.line_count
     LIMIT 1;
    IF over_entry IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % would have % lines, declared %',
            over_entry, actual, declared USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO accounting_balancedelta (account_id, amount)
    SELECT l.account_id, sum(accounting_normal_amount(a.type, l.side, l.amount))
      FROM new_lines l
      JOIN accounting_account a ON a.id = l.account_id
     GROUP BY l.account_id;
    INSERT INTO accounting_balancechange (account_id, entry_id, amount, created_at)
    SELECT l.account_id, l.entry_id, sum(accounting_normal_amount(a.type, l.side, l.amount)),
           now()
      FROM new_lines l
      JOIN accounting_account a ON a.id = l.account_id
     WHERE a.type = {{ AccountType.LIABILITY }}
     GROUP BY l.entry_id, l.account_id;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS accounting_lines_posted ON accounting_journalline;
CREATE TRIGGER accounting_lines_posted
    AFTER INSERT ON accounting_journalline
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION accounting_lines_posted();
