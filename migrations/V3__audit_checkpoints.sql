-- Issue 3: signed checkpoints of the audit chain, and the indexes behind the auditor queries.

-- The audit key's public half, so verification does not need the HSM. The private half never leaves the HSM's
-- audit partition. Verification also compares this row with the HSM's public key when the HSM is reachable,
-- and returns the key's thumbprint so auditors can pin it out of band (see README "Audit trail and events").
create table audit_key (
    kid            text primary key,
    partition_name text        not null,
    hsm_handle     text        not null unique,
    algorithm      text        not null check (algorithm = 'ES256'),
    public_jwk     text        not null,
    created_at     timestamptz not null
);

-- A checkpoint signs the chain head (seq, hash) at a time, on a node. The signed bytes are the canonical JSON
-- {"hash","keyId","node","seq","time"} rebuilt from these columns, so editing any column breaks the signature.
-- No foreign key to audit_record on purpose: a checkpoint must outlive a truncated chain to reveal the truncation.
create table audit_checkpoint (
    id           bigserial primary key,
    seq          bigint      not null check (seq >= 1),
    hash         text        not null,
    signed_at    timestamptz not null,
    node         text        not null,
    key_id       text        not null references audit_key (kid),
    signature    text        not null,
    requested_by text        not null
);
create index audit_checkpoint_by_seq on audit_checkpoint (seq desc);

-- Auditor queries page by seq under one or two equality filters; the single-column (x, seq) indexes of V1
-- serve one filter, these the common pairs (an issuer's actions, a kid's or actor's records of one action).
create index audit_record_by_issuer_action on audit_record (issuer_id, action, seq);
create index audit_record_by_actor_action on audit_record (actor, action, seq);
