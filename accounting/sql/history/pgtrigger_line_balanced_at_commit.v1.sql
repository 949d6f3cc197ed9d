-- version: 1

    SELECT e.line_count, count(l.id)
      INTO declared, actual
      FROM accounting_journalentry e
      LEFT JOIN accounting_journalline l ON l.entry_id = e.id
     WHERE e.id = NEW.entry_id
     GROUP BY e.line_count;
    IF declared IS NULL THEN
        RETURN NULL;
    END IF;
    IF actual <> declared THEN
        RAISE EXCEPTION 'journal entry % has % lines, declared %', NEW.entry_id, actual, declared
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM accounting_journalline l
          JOIN accounting_account a ON a.id = l.account_id
         WHERE l.entry_id = NEW.entry_id AND l.amount_currency <> a.currency
    ) THEN
        RAISE EXCEPTION 'journal entry % has a line in a currency other than its account''s',
            NEW.entry_id USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM accounting_journalline l
         WHERE l.entry_id = NEW.entry_id
         GROUP BY l.amount_currency
        HAVING sum(CASE WHEN l.side = 'D' THEN l.amount ELSE -l.amount END) <> 0
    ) THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: debits differ from credits', NEW.entry_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
