-- Custodian signatures: dual control that a database write cannot forge. Nothing in these tables is trusted on
-- its own: credentials carry a seal by the HSM seal key, policy versions form a hash chain whose links are sealed
-- by the HSM or signed by custodians, and decisions carry the custodian's signature over the request's statement.

-- Single-use enrollment challenges (proof of possession of a new credential).
create table custodian_challenge (
    id          uuid primary key,
    principal   text        not null,
    purpose     text        not null check (purpose in ('enroll')),
    challenge   text        not null unique,
    created_at  timestamptz not null,
    expires_at  timestamptz not null,
    used_at     timestamptz
);
create index custodian_challenge_open on custodian_challenge (principal, expires_at) where used_at is null;

-- A custodian's public keys. id: the SSH fingerprint, or 'webauthn:' || credentialId. seal: compact JWS by the HSM
-- seal key over the canonical binding (principal, format, id, public key); a row whose seal does not verify is
-- not a credential.
create table custodian_credential (
    id            text primary key,
    principal     text        not null,
    format        text        not null check (format in ('sshsig', 'webauthn')),
    public_key    text        not null,
    credential_id text,
    algorithm     text        not null,
    enrolled_at   timestamptz not null,
    seal          text        not null
);
create index custodian_credential_by_principal on custodian_credential (principal);

-- The issuer policy chain: canonical JSON documents, each naming the previous one's digest.
create table issuer_policy (
    issuer_id  text        not null references issuer (id),
    version    int         not null check (version >= 1),
    document   text        not null,
    digest     text        not null,
    evidence   text        not null,
    created_at timestamptz not null,
    primary key (issuer_id, version)
);

-- The exact bytes custodians sign, fixed when a request opens; for resume and policy change the proposed version.
alter table activation_request add column statement text;
alter table activation_request add column proposed_policy text;
alter table activation_decision add column signature text;
alter table activation_decision add column credential_id text;
