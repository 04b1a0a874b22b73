-- Keyhold schema, part 1: issuers, keys, activation requests, the audit chain and the event outbox.
-- Hibernate never generates schema; this file is the contract.

create table issuer (
    id                 text primary key check (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    issuer_uri         text        not null unique,
    partition_name     text        not null,
    algorithm          text        not null check (algorithm in ('ES256', 'ES384', 'RS256', 'PS256')),
    audiences          jsonb       not null,
    custodians         jsonb       not null,
    approvals_required integer     not null check (approvals_required >= 1),
    signers            jsonb       not null,
    rotation_period_s  bigint      not null check (rotation_period_s > 0),
    publish_lead_s     bigint      not null check (publish_lead_s > 0),
    token_ttl_s        bigint      not null check (token_ttl_s > 0),
    active_deadline_s  bigint      not null,
    destroy_grace_s    bigint      not null check (destroy_grace_s >= 0),
    approval_ttl_s     bigint      not null check (approval_ttl_s > 0),
    status             text        not null check (status in ('ACTIVE', 'SUSPENDED')),
    created_at         timestamptz not null,
    updated_at         timestamptz not null,
    version            bigint      not null default 0,
    check (active_deadline_s >= rotation_period_s),
    -- target of signing_key's composite key: a key lives in its issuer's partition
    unique (id, partition_name)
);

create table signing_key (
    kid                 text primary key,
    issuer_id           text        not null,
    algorithm           text        not null,
    partition_name      text        not null,
    hsm_handle          text        not null,
    public_jwk          text        not null,
    state               text        not null check (state in ('PENDING', 'ACTIVE', 'RETIRED', 'REVOKED', 'DESTROYED')),
    created_at          timestamptz not null,
    activatable_at      timestamptz not null,
    activated_at        timestamptz,
    not_after           timestamptz,
    retired_at          timestamptz,
    verify_until        timestamptz,
    unpublished_at      timestamptz,
    destroy_at          timestamptz,
    destroyed_at        timestamptz,
    revoked_at          timestamptz,
    revocation_reason   text,
    overdue_notified_at timestamptz,
    hsm_missing_at      timestamptz,
    version             bigint      not null default 0,
    -- Issuer binding (invariant 1) as a database fact: the key's partition is its issuer's partition.
    foreign key (issuer_id, partition_name) references issuer (id, partition_name),
    unique (partition_name, hsm_handle),
    check (state <> 'ACTIVE' or (activated_at is not null and not_after is not null)),
    check (state <> 'RETIRED' or (retired_at is not null and verify_until is not null)),
    check (state <> 'REVOKED' or (revoked_at is not null and destroy_at is not null)),
    check (state <> 'DESTROYED' or destroyed_at is not null)
);
-- One signer (invariant 3): at most one ACTIVE key per issuer, whatever the concurrency.
create unique index signing_key_one_active_per_issuer on signing_key (issuer_id) where state = 'ACTIVE';
-- Rotation is idempotent: at most one key awaiting activation per issuer.
create unique index signing_key_one_pending_per_issuer on signing_key (issuer_id) where state = 'PENDING';
create index signing_key_by_issuer on signing_key (issuer_id, created_at desc);

create table activation_request (
    id                 uuid primary key,
    kind               text        not null check (kind in ('KEY_ACTIVATION', 'ISSUER_RESUME', 'POLICY_CHANGE')),
    issuer_id          text        not null references issuer (id),
    kid                text references signing_key (kid),
    requester          text        not null,
    reason             text,
    state              text        not null check (state in ('OPEN', 'APPROVED', 'REJECTED', 'EXPIRED', 'EXECUTED', 'CANCELLED')),
    approvals_required integer     not null check (approvals_required >= 1),
    payload            text,
    created_at         timestamptz not null,
    expires_at         timestamptz not null,
    decided_at         timestamptz,
    executed_at        timestamptz,
    version            bigint      not null default 0,
    check (kind <> 'KEY_ACTIVATION' or kid is not null)
);
-- A key has at most one live request, so two approvals can never activate it twice.
create unique index activation_request_one_live_per_key on activation_request (kid)
    where state in ('OPEN', 'APPROVED');
create index activation_request_by_state on activation_request (state, created_at);
create index activation_request_by_issuer on activation_request (issuer_id, created_at);

create table activation_decision (
    request_id uuid        not null references activation_request (id),
    custodian  text        not null,
    decision   text        not null check (decision in ('APPROVE', 'REJECT')),
    comment    text,
    decided_at timestamptz not null,
    -- a custodian decides once
    primary key (request_id, custodian)
);

-- The audit chain. seq is contiguous from 1 and each hash covers the previous one (invariant 8).
create table audit_record (
    seq         bigint primary key,
    recorded_at timestamptz not null,
    node        text        not null,
    actor       text        not null,
    action      text        not null,
    outcome     text        not null,
    issuer_id   text,
    kid         text,
    request_id  text,
    details     text        not null,
    prev_hash   text        not null,
    hash        text        not null
);
create index audit_record_by_issuer on audit_record (issuer_id, seq);
create index audit_record_by_kid on audit_record (kid, seq);
create index audit_record_by_actor on audit_record (actor, seq);
create index audit_record_by_action on audit_record (action, seq);
create index audit_record_by_time on audit_record (recorded_at, seq);

-- The transactional outbox of CloudEvents. seq is the event id; appends are serialised with the audit chain,
-- so sequence order is commit order.
create sequence outbox_event_seq;
create table outbox_event (
    seq        bigint primary key,
    type       text        not null,
    source     text        not null,
    issuer_id  text,
    subject    text,
    event_time timestamptz not null,
    data       text        not null
);
create index outbox_event_by_issuer on outbox_event (issuer_id, seq);
