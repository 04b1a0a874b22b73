-- Issue 20: evidence after a key compromise (README "Evidence").

-- Per-issuer evidence policy. suspend_on_compromise: a reported token that verifies under one of the issuer's keys
-- but is not in the ledger pulls the kill switch. ledger_best_effort: tokens are handed out before their ledger
-- batch commits (README states the loss window).
alter table issuer add column suspend_on_compromise boolean not null default false;
alter table issuer add column ledger_best_effort boolean not null default false;

-- The issuance ledger's head: one row, locked by each batch writer, so the chain of batches stays one line across
-- instances. covered_from: tokens issued before it cannot be judged (the ledger did not exist yet, or their
-- partition was dropped by retention).
create table ledger_head (
    id           integer primary key check (id = 1),
    seq          bigint      not null check (seq >= 0),
    hash         text        not null,
    recorded_at  timestamptz,
    covered_from timestamptz not null
);
insert into ledger_head (id, seq, hash, recorded_at, covered_from) values (1, 0, repeat('0', 64), null, now());

-- One row per batch. hash = SHA-256 over (seq, recorded_at, node, token_count, tokens_digest, prev_hash); see
-- evidence/LedgerHash. Partitioned by day of recorded_at, like its tokens, so retention drops both together.
create table ledger_batch (
    seq           bigint      not null,
    recorded_at   timestamptz not null,
    node          text        not null,
    token_count   integer     not null check (token_count > 0),
    tokens_digest text        not null,
    prev_hash     text        not null,
    hash          text        not null,
    primary key (seq, recorded_at)
) partition by range (recorded_at);

-- One row per issued token. recorded_at is its batch's (the partition key); token_sha256 is SHA-256 of the
-- compact JWS as handed out. aud is the claim as canonical JSON (a string or an array).
create table ledger_token (
    recorded_at  timestamptz not null,
    batch_seq    bigint      not null,
    position     integer     not null,
    token_sha256 bytea       not null,
    jti          text        not null,
    kid          text        not null,
    issuer_id    text        not null,
    sub          text,
    aud          text,
    iat          bigint      not null,
    exp          bigint      not null,
    primary key (batch_seq, position, recorded_at)
) partition by range (recorded_at);
create index ledger_token_by_hash on ledger_token (token_sha256);
create index ledger_token_by_jti on ledger_token (issuer_id, jti);

-- Signed checkpoints of the ledger head, by the audit key (same rules as audit_checkpoint; the signed bytes name
-- the ledger, so an audit checkpoint can never pass for a ledger one).
create table ledger_checkpoint (
    id           bigserial primary key,
    seq          bigint      not null check (seq >= 1),
    hash         text        not null,
    signed_at    timestamptz not null,
    node         text        not null,
    key_id       text        not null references audit_key (kid),
    signature    text        not null,
    requested_by text        not null
);
create index ledger_checkpoint_by_seq on ledger_checkpoint (seq desc);

-- Forged tokens reported by validators: one alarm per token, later reports of the same token only count.
create table compromise_report (
    token_sha256      bytea primary key,
    issuer_id         text        not null,
    kid               text        not null,
    first_reported_at timestamptz not null,
    first_reporter    text        not null,
    reports           integer     not null
);
