-- Trust bundles (issue 18): signed, versioned trust metadata per issuer, and the trust key that signs them.

-- The trust key's public half (the private half never leaves the HSM's trust partition). Validators pin these
-- through GET /v1/trust-anchor. state: CURRENT signs; NEXT is announced ahead of a trust key rotation; RETIRED
-- keys are kept so older bundles stay verifiable.
create table trust_key (
    kid            text primary key,
    partition_name text        not null,
    hsm_handle     text        not null unique,
    algorithm      text        not null check (algorithm = 'ES256'),
    public_jwk     text        not null,
    state          text        not null check (state in ('CURRENT', 'NEXT', 'RETIRED')),
    created_at     timestamptz not null
);
create unique index trust_key_one_current on trust_key (state) where state = 'CURRENT';

-- One row per issuer per change of its trust metadata, computed in the transaction of that change. content is the
-- canonical JSON (RFC 8785) of the payload without iat, exp and previous, which are added when it is signed (after
-- commit). content_digest covers the fields that decide whether a change altered the trust metadata.
-- audiences and algorithm are the issuer's policy values at that point, for rollbacks.
create table trust_bundle (
    issuer_id      text        not null references issuer (id),
    sequence       bigint      not null check (sequence >= 1),
    content        text        not null,
    content_digest text        not null,
    audiences      jsonb       not null,
    algorithm      text        not null,
    rollback_of    bigint,
    revokes        boolean     not null,
    computed_at    timestamptz not null,
    staged_at      timestamptz not null default clock_timestamp(),
    previous       text,
    first_signed_at timestamptz,
    primary key (issuer_id, sequence),
    check (rollback_of is null or rollback_of < sequence)
);
-- The signer's queue: unsigned bundles (first_signed_at and previous are set by the first signature).
create index trust_bundle_unsigned on trust_bundle (staged_at) where first_signed_at is null;

-- Every signature of a bundle, append-only: the first is the bundle as published (served by /trust-bundles/{n} and
-- hashed into the next bundle's previous); later ones re-sign the same content with a fresh iat/exp.
create table trust_bundle_signature (
    id        bigserial primary key,
    issuer_id text        not null,
    sequence  bigint      not null,
    iat       timestamptz not null,
    exp       timestamptz not null,
    key_id    text        not null references trust_key (kid),
    jws       text        not null,
    signed_at timestamptz not null,
    foreign key (issuer_id, sequence) references trust_bundle (issuer_id, sequence),
    unique (issuer_id, sequence, iat)
);
create index trust_bundle_signature_latest on trust_bundle_signature (issuer_id, sequence desc, id desc);

-- Immutability as a database fact: a bundle's content never changes and it is never deleted; previous is written
-- once (with first_signed_at, null -> value) by its first signature; signatures are never changed or deleted.
create function trust_bundle_immutable() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        raise exception 'trust bundles are immutable';
    end if;
    if old.first_signed_at is not null
            or (to_jsonb(new) - 'previous' - 'first_signed_at') <> (to_jsonb(old) - 'previous' - 'first_signed_at') then
        raise exception 'trust bundle %/% is immutable', old.issuer_id, old.sequence;
    end if;
    return new;
end $$;
create trigger trust_bundle_immutable before update or delete on trust_bundle
    for each row execute function trust_bundle_immutable();

create function trust_bundle_signature_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'trust bundle signatures are immutable';
end $$;
create trigger trust_bundle_signature_immutable before update or delete on trust_bundle_signature
    for each row execute function trust_bundle_signature_immutable();

-- Rollbacks are decided M-of-N like the other requests; one live rollback per issuer.
alter table activation_request drop constraint activation_request_kind_check;
alter table activation_request add constraint activation_request_kind_check
    check (kind in ('KEY_ACTIVATION', 'ISSUER_RESUME', 'POLICY_CHANGE', 'TRUST_ROLLBACK'));
create unique index activation_request_one_live_rollback on activation_request (issuer_id)
    where state in ('OPEN', 'APPROVED') and kind = 'TRUST_ROLLBACK';
