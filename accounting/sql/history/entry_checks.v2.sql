-- version: 2
-- Each new journal entry is checked at commit (a deferred constraint trigger), in one
-- query: it has exactly its declared number of lines, each line's currency is its account's,
-- and per currency the debits equal the credits. An entry that fails any of these cannot
-- commit, whatever inserted it.
--
-- No plan of this function may scan a growing table sequentially, whatever the planner's
-- statistics say (a fresh deployment, or tables past a statistics cliff before autovacuum's
-- next ANALYZE): every table it reads has the index the lookup needs.
CREATE OR REPLACE FUNCTION accounting_entry_check() RETURNS trigger
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
DECLARE
    declared integer;
    actual bigint;
    wrong_currency boolean;
    unbalanced boolean;
BEGIN
    SELECT e.line_count,
           count(l.id),
           coalesce(bool_or(l.amount_currency <> a.currency), false),
           coalesce((SELECT bool_or(t.net <> 0)
                       FROM (SELECT sum(CASE WHEN x.side = {{ Side.DEBIT }}
                                             THEN x.amount ELSE -x.amount END) AS net
                               FROM accounting_journalline x
                              WHERE x.entry_id = e.id
                              GROUP BY x.amount_currency) t), false)
      INTO declared, actual, wrong_currency, unbalanced
      FROM accounting_journalentry e
      LEFT JOIN accounting_journalline l ON l.entry_id = e.id
      LEFT JOIN accounting_account a ON a.id = l.account_id
     WHERE e.id = NEW.id
     GROUP BY e.id;
    IF declared IS NULL THEN
        RETURN NULL;
    END IF;
    IF actual <> declared THEN
        RAISE EXCEPTION 'journal entry % has % lines, declared %', NEW.id, actual, declared
            USING ERRCODE = 'check_violation';
    END IF;
    IF wrong_currency THEN
        RAISE EXCEPTION 'journal entry % has a line in a currency other than its account''s',
            NEW.id USING ERRCODE = 'check_violation';
    END IF;
    IF unbalanced THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: debits differ from credits', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS accounting_entry_balanced_at_commit ON accounting_journalentry;
CREATE CONSTRAINT TRIGGER accounting_entry_balanced_at_commit
    AFTER INSERT ON accounting_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION accounting_entry_check();
