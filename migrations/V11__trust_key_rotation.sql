-- Trust key rotation (issue 18): a NEXT trust key is generated and announced by GET /v1/trust-anchor while a
-- TRUST_KEY_ROTATION request awaits M-of-N approval by the custodians of the governing issuer
-- (keyhold.trust.governing-issuer). Approved, the NEXT key takes over: each issuer's newest bundle is signed again by
-- both keys (JWS JSON serialization), the old key is RETIRED and never signs again.
alter table trust_key add column retired_at timestamptz;
create unique index trust_key_one_next on trust_key (state) where state = 'NEXT';

-- The old key's co-signature of a takeover bundle (key_id is the new key); null for single-signed bundles.
alter table trust_bundle_signature add column co_key_id text references trust_key (kid);

alter table activation_request drop constraint activation_request_kind_check;
alter table activation_request add constraint activation_request_kind_check
    check (kind in ('KEY_ACTIVATION', 'ISSUER_RESUME', 'POLICY_CHANGE', 'TRUST_ROLLBACK', 'TRUST_KEY_ROTATION'));
-- One live trust key rotation at a time, service-wide (the trust key is shared by every issuer).
create unique index activation_request_one_live_trust_key_rotation on activation_request (kind)
    where state in ('OPEN', 'APPROVED') and kind = 'TRUST_KEY_ROTATION';
