-- version: 2

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
    SELECT l.account_id,
           sum(CASE WHEN (a.type IN ('asset', 'expense')) = (l.side = 'D')
                    THEN l.amount ELSE -l.amount END)
      FROM new_lines l
      JOIN accounting_account a ON a.id = l.account_id
     GROUP BY l.account_id;
    -- balance_after: the balance as this transaction sees it, this posting included.
    INSERT INTO accounting_balancechange (account_id, entry_id, amount, balance_after, created_at)
    SELECT c.account_id, c.entry_id, c.amount,
           coalesce((SELECT b.balance FROM accounting_accountbalance b
                      WHERE b.account_id = c.account_id), 0)
         + coalesce((SELECT sum(d.amount) FROM accounting_balancedelta d
                      WHERE d.account_id = c.account_id), 0),
           now()
      FROM (SELECT l.account_id, l.entry_id,
                   sum(CASE WHEN l.side = 'C' THEN l.amount ELSE -l.amount END) AS amount
              FROM new_lines l
              JOIN accounting_account a ON a.id = l.account_id
             WHERE a.type = 'liability'
             GROUP BY l.entry_id, l.account_id) c;
    RETURN NULL;
