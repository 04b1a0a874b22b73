-- Dual control (issue 4): an issuer has at most one live resume request and one live policy change at a time,
-- so two proposals can never both be approved and applied over each other. Key activation requests are already
-- limited to one live request per key (V1).
create unique index activation_request_one_live_per_issuer_kind on activation_request (issuer_id, kind)
    where state in ('OPEN', 'APPROVED') and kind in ('ISSUER_RESUME', 'POLICY_CHANGE');
-- Decisions are read per request in decision order.
create index activation_decision_by_request on activation_decision (request_id, decided_at);
