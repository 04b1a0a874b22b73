package dev.keyhold.testsupport;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Everything a refused call must leave untouched for one issuer, as one string: the issuer row, its keys, its
 * requests and decisions, its events, and its successful audit records (refusals themselves are audited).
 */
@ApplicationScoped
public class StateFingerprint {

    @Inject
    Sql sql;

    public String of(String issuerId) {
        return (String) sql.one(
                "select concat_ws('|',"
                        + " (select status || ':' || version || ':' || custodians::text || ':' || approvals_required from issuer where id = ?),"
                        + " (select string_agg(kid || ':' || state || ':' || version, ',' order by kid) from signing_key where issuer_id = ?),"
                        + " (select string_agg(id::text || ':' || state || ':' || version, ',' order by id) from activation_request where issuer_id = ?),"
                        + " (select count(*)::text from activation_decision d join activation_request r on r.id = d.request_id where r.issuer_id = ?),"
                        + " (select count(*)::text from outbox_event where issuer_id = ?),"
                        + " (select count(*)::text from audit_record where issuer_id = ? and outcome <> 'denied'))",
                issuerId,
                issuerId,
                issuerId,
                issuerId,
                issuerId,
                issuerId);
    }
}
