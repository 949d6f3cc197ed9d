-- version: 3
-- Posted rows are never changed: entries and lines are append-only, an account's identity
-- (code, type, currency) is fixed and accounts are never deleted, and a balance-change row
-- changes once: when it is dispatched, with its running balance; closed days and their
-- totals are final. These are plain triggers with no bypass: no session setting makes them
-- stand aside, and they stay enabled in replica mode (ENABLE ALWAYS). Corrections are new entries (reversal, reclassification).
CREATE OR REPLACE FUNCTION accounting_refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '% of % rows is refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'restrict_violation';
END;
$$;

DROP TRIGGER IF EXISTS accounting_entry_append_only ON accounting_journalentry;
CREATE TRIGGER accounting_entry_append_only
    BEFORE UPDATE OR DELETE ON accounting_journalentry
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('posted entries are append-only');
ALTER TABLE accounting_journalentry ENABLE ALWAYS TRIGGER accounting_entry_append_only;

DROP TRIGGER IF EXISTS accounting_line_append_only ON accounting_journalline;
CREATE TRIGGER accounting_line_append_only
    BEFORE UPDATE OR DELETE ON accounting_journalline
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('posted lines are append-only');
ALTER TABLE accounting_journalline ENABLE ALWAYS TRIGGER accounting_line_append_only;

DROP TRIGGER IF EXISTS accounting_account_identity_fixed ON accounting_account;
CREATE TRIGGER accounting_account_identity_fixed
    BEFORE UPDATE ON accounting_account
    FOR EACH ROW
    WHEN (OLD.code IS DISTINCT FROM NEW.code OR OLD.type IS DISTINCT FROM NEW.type
          OR OLD.currency IS DISTINCT FROM NEW.currency OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION accounting_refuse_change('an account''s code, type and currency are fixed');
ALTER TABLE accounting_account ENABLE ALWAYS TRIGGER accounting_account_identity_fixed;

DROP TRIGGER IF EXISTS accounting_account_kept ON accounting_account;
CREATE TRIGGER accounting_account_kept
    BEFORE DELETE ON accounting_account
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('accounts are never deleted');
ALTER TABLE accounting_account ENABLE ALWAYS TRIGGER accounting_account_kept;

DROP TRIGGER IF EXISTS accounting_balancechange_kept ON accounting_balancechange;
CREATE TRIGGER accounting_balancechange_kept
    BEFORE DELETE ON accounting_balancechange
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('the balance-change log is kept');
ALTER TABLE accounting_balancechange ENABLE ALWAYS TRIGGER accounting_balancechange_kept;

DROP TRIGGER IF EXISTS accounting_balancechange_only_dispatch ON accounting_balancechange;
CREATE TRIGGER accounting_balancechange_only_dispatch
    BEFORE UPDATE ON accounting_balancechange
    FOR EACH ROW
    WHEN (OLD.dispatched_at IS NOT NULL
          OR OLD.id IS DISTINCT FROM NEW.id OR OLD.account_id IS DISTINCT FROM NEW.account_id
          OR OLD.entry_id IS DISTINCT FROM NEW.entry_id OR OLD.amount IS DISTINCT FROM NEW.amount
          OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION accounting_refuse_change('a balance change changes only when dispatched');
ALTER TABLE accounting_balancechange ENABLE ALWAYS TRIGGER accounting_balancechange_only_dispatch;

DROP TRIGGER IF EXISTS accounting_closedday_kept ON accounting_closedday;
CREATE TRIGGER accounting_closedday_kept
    BEFORE UPDATE OR DELETE ON accounting_closedday
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('a closed day stays closed');
ALTER TABLE accounting_closedday ENABLE ALWAYS TRIGGER accounting_closedday_kept;

DROP TRIGGER IF EXISTS accounting_accountdaytotal_kept ON accounting_accountdaytotal;
CREATE TRIGGER accounting_accountdaytotal_kept
    BEFORE UPDATE OR DELETE ON accounting_accountdaytotal
    FOR EACH ROW EXECUTE FUNCTION accounting_refuse_change('a closed day''s totals are final');
ALTER TABLE accounting_accountdaytotal ENABLE ALWAYS TRIGGER accounting_accountdaytotal_kept;
