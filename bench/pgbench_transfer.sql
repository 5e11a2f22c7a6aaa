-- One transfer as one plain SQL transaction, for pgbench (bench/http_load.py runs it beside the
-- HTTP server, in the same rounds): lock and update both balances in account order, then
-- append the journal row under a fresh unique id (as a transfer's idempotency key is unique).
--   pgbench -n -f bench/pgbench_transfer.sql -D accounts=200 -c 4 -j 2 -T 5 ...
-- Tables (created by bench/http_load.py in a schema of its own):
--   pgbench_transfer_accounts (account_id INT PRIMARY KEY, balance BIGINT NOT NULL)
--   pgbench_transfer_journal (transfer_id UUID PRIMARY KEY, debit INT, credit INT,
--                             amount BIGINT, created_at TIMESTAMPTZ DEFAULT now())
\set debit random(0, :accounts - 1)
\set credit random(0, :accounts - 1)
BEGIN;
UPDATE pgbench_transfer_accounts SET balance = balance - 100 WHERE account_id = least(:debit, :credit);
UPDATE pgbench_transfer_accounts SET balance = balance + 100 WHERE account_id = greatest(:debit, :credit);
INSERT INTO pgbench_transfer_journal (transfer_id, debit, credit, amount)
    VALUES (gen_random_uuid(), :debit, :credit, 100);
END;
