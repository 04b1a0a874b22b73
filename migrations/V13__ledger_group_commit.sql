-- Issuance ledger group commit: every index on the ledger tables is now one a query uses.
--
-- Queries on ledger_token: the evidence lookup (token_sha256 = any(...), ledger_token_by_hash), the export (a
-- recorded_at window, i.e. partitions, ordered by batch_seq and position: the primary key) and the writer's insert.
-- Nothing looks a token up by (issuer_id, jti): that index only cost every insert a random B-tree write.
-- ledger_batch: its primary key (seq, recorded_at) serves the export's order and the writer's check, after a write
-- whose outcome it does not know, whether its batch committed. ledger_checkpoint_by_seq serves max(seq) and the
-- export's seq range.
drop index if exists ledger_token_by_jti;
