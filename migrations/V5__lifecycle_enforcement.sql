-- Lifecycle enforcement (issue 5): the sweeper's "what is due" query and HSM reconciliation.

-- HSM objects seen without a key row. SoftHSM (and PKCS#11 generally) keeps no creation time per object, so the
-- reconciler remembers when it first saw each orphan and destroys it only after keyhold.reconcile.orphan-grace:
-- a rotation between HSM generation and commit must not lose its fresh object.
create table hsm_orphan (
    partition_name text        not null,
    hsm_handle     text        not null,
    first_seen_at  timestamptz not null,
    primary key (partition_name, hsm_handle)
);

-- Partial indexes for the due query: each branch reads only the rows that can be due.
create index activation_request_open_by_expiry on activation_request (expires_at) where state = 'OPEN';
create index activation_request_approved_by_issuer on activation_request (issuer_id) where state = 'APPROVED';
create index signing_key_retired_by_verify_until on signing_key (verify_until)
    where state = 'RETIRED' and unpublished_at is null;
create index signing_key_by_destroy_at on signing_key (destroy_at) where state in ('RETIRED', 'REVOKED');
