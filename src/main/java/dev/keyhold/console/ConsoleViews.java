package dev.keyhold.console;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyhold.activation.ActivationDecisions;
import dev.keyhold.activation.ActivationView;
import dev.keyhold.audit.AuditRecordView;
import dev.keyhold.domain.ActivationState;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.error.ProblemException;
import dev.keyhold.issuer.IssuerService;
import dev.keyhold.issuer.IssuerView;
import dev.keyhold.key.KeyService;
import dev.keyhold.key.KeyView;
import dev.keyhold.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns the services' views (the same records the API returns) into what the console shows, and applies the console's
 * scoping: a custodian sees only the issuers that name them, as the API scopes activation requests.
 */
@ApplicationScoped
public class ConsoleViews {

    static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);
    /** Policy fields a POLICY_CHANGE may change, in the order the diff lists them. */
    private static final List<String> POLICY_FIELDS = List.of(
            "algorithm",
            "audiences",
            "custodians",
            "approvalsRequired",
            "signers",
            "rotationPeriod",
            "publishLead",
            "tokenTtl",
            "activeDeadline",
            "destroyGrace",
            "approvalTtl");

    @Inject
    ActivationDecisions decisions;

    @Inject
    IssuerService issuers;

    @Inject
    KeyService keys;

    static String time(Instant t) {
        return t == null ? "" : TIME.format(t);
    }

    /** Admins and auditors see every issuer; a custodian those that name them; anyone else none. */
    boolean maySee(IssuerView issuer, SecurityIdentity who) {
        return who.hasRole(Roles.ADMIN)
                || who.hasRole(Roles.AUDITOR)
                || (who.hasRole(Roles.CUSTODIAN)
                        && issuer.custodians().contains(who.getPrincipal().getName()));
    }

    /** The issuer if the caller may see it; 404 when it does not exist, 403 when it is not theirs. */
    IssuerView visibleIssuer(String id, SecurityIdentity who) {
        IssuerView v = issuers.get(id);
        if (!maySee(v, who)) {
            throw ProblemException.forbidden(
                    "'" + who.getPrincipal().getName() + "' is not a custodian of issuer " + id);
        }
        return v;
    }

    List<Views.IssuerRow> issuers(SecurityIdentity who) {
        return issuers.list().stream()
                .filter(i -> maySee(i, who))
                .map(ConsoleViews::issuerRow)
                .toList();
    }

    static Views.IssuerRow issuerRow(IssuerView i) {
        String policy = "rotation " + i.rotationPeriod() + ", publish lead " + i.publishLead() + ", token TTL "
                + i.tokenTtl() + ", active deadline " + i.activeDeadline() + ", destroy grace " + i.destroyGrace()
                + ", approval TTL " + i.approvalTtl();
        return new Views.IssuerRow(
                i.id(),
                i.issuerUri(),
                i.status().name(),
                i.status() == IssuerStatus.SUSPENDED,
                i.algorithm(),
                i.partition(),
                i.activeKid(),
                time(i.nextRotationDue()),
                i.overdue(),
                i.awaitingApproval(),
                String.join(", ", i.custodians()),
                i.approvalsRequired(),
                i.custodians().size(),
                String.join(", ", i.audiences()),
                policy);
    }

    /** Open requests the caller may read (the API's own scoping), newest first, with their keys and diffs. */
    List<Views.RequestCard> openRequests(SecurityIdentity who, int limit) {
        List<ActivationView> open = decisions.list(ActivationState.OPEN.name(), null, limit, who);
        if (open.isEmpty()) {
            return List.of();
        }
        // A fixed number of queries for the whole page: every issuer's view and every card's key at once.
        Map<String, IssuerView> byIssuer = new HashMap<>();
        issuers.list().forEach(i -> byIssuer.put(i.id(), i));
        Map<String, KeyView> byKid = keys.getAll(open.stream()
                .map(ActivationView::kid)
                .filter(java.util.Objects::nonNull)
                .distinct()
                .toList());
        List<Views.RequestCard> cards = new ArrayList<>();
        for (ActivationView r : open) {
            cards.add(card(
                    r,
                    byIssuer.computeIfAbsent(r.issuerId(), issuers::get),
                    who,
                    kid -> byKid.containsKey(kid) ? byKid.get(kid) : keys.get(kid)));
        }
        return cards;
    }

    List<Views.RequestLink> requestsOf(String issuerId, SecurityIdentity who) {
        return decisions.list(null, issuerId, 20, who).stream()
                .map(r -> new Views.RequestLink(
                        r.id(), r.kind().name(), r.state().name(), r.kid(), r.requester(), time(r.createdAt())))
                .toList();
    }

    Views.RequestCard request(String id, SecurityIdentity who) {
        ActivationView r = decisions.get(id, who);
        return card(r, issuers.get(r.issuerId()), who);
    }

    Views.RequestCard card(ActivationView r, IssuerView issuer, SecurityIdentity who) {
        return card(r, issuer, who, keys::get);
    }

    private Views.RequestCard card(
            ActivationView r,
            IssuerView issuer,
            SecurityIdentity who,
            java.util.function.Function<String, KeyView> key) {
        String algorithm = null;
        String shape = null;
        if (r.kid() != null) {
            KeyView k = key.apply(r.kid());
            algorithm = k.algorithm();
            shape = keyShape(k.publicJwk());
        }
        List<Views.DecisionRow> ds = r.decisions().stream()
                .map(d -> new Views.DecisionRow(d.custodian(), d.decision(), d.comment(), time(d.decidedAt())))
                .toList();
        String name = who.getPrincipal().getName();
        String whyNot = null;
        if (r.state() != ActivationState.OPEN) {
            whyNot = "This request is " + r.state() + "; decisions are taken only while it is OPEN.";
        } else if (r.due() != null && r.due() != r.state()) {
            whyNot = "This request is due to become " + r.due() + "; it can no longer be decided.";
        } else if (!who.hasRole(Roles.CUSTODIAN) || !issuer.custodians().contains(name)) {
            whyNot = "Only custodians of issuer " + issuer.id() + " decide this request.";
        } else if (name.equals(r.requester())) {
            whyNot = "You requested this, so you cannot decide it: dual control needs other custodians.";
        } else if (r.decisions().stream().anyMatch(d -> d.custodian().equals(name))) {
            whyNot = "You have decided this request.";
        }
        return new Views.RequestCard(
                r.id(),
                r.kind().name(),
                kindLabel(r.kind().name()),
                r.issuerId(),
                r.kid(),
                algorithm,
                shape,
                r.requester(),
                r.reason(),
                r.state().name(),
                time(r.createdAt()),
                time(r.expiresAt()),
                r.approvals(),
                r.approvalsRequired(),
                ds,
                diff(r.proposed(), issuer),
                whyNot == null,
                whyNot);
    }

    static String kindLabel(String kind) {
        return switch (kind) {
            case "KEY_ACTIVATION" -> "Key activation";
            case "ISSUER_RESUME" -> "Resume issuer";
            case "POLICY_CHANGE" -> "Policy change";
            case "TRUST_ROLLBACK" -> "Trust bundle rollback";
            case "TRUST_KEY_ROTATION" -> "Trust key rotation";
            default -> kind;
        };
    }

    /** "P-256", "RSA 2048 bits": what a custodian checks against the issuer's policy. */
    static String keyShape(JsonNode jwk) {
        if (jwk == null) {
            return null;
        }
        if (jwk.hasNonNull("crv")) {
            return jwk.get("crv").asText();
        }
        if (jwk.hasNonNull("n")) {
            byte[] n = Base64.getUrlDecoder().decode(jwk.get("n").asText());
            int bits = n.length * 8;
            if (n.length > 0 && n[0] == 0) {
                bits -= 8;
            }
            return "RSA " + bits + " bits";
        }
        return jwk.path("kty").asText(null);
    }

    /**
     * A policy change's diff, field by field against the issuer as it is now. Other proposals (a trust rollback) show
     * each proposed field that differs from a field of the issuer with the same name.
     */
    static List<Views.DiffRow> diff(JsonNode proposed, IssuerView issuer) {
        if (proposed == null || !proposed.isObject()) {
            return List.of();
        }
        Map<String, Object> now = new HashMap<>();
        now.put("algorithm", issuer.algorithm());
        now.put("audiences", issuer.audiences());
        now.put("custodians", issuer.custodians());
        now.put("approvalsRequired", issuer.approvalsRequired());
        now.put("signers", issuer.signers());
        now.put("rotationPeriod", issuer.rotationPeriod());
        now.put("publishLead", issuer.publishLead());
        now.put("tokenTtl", issuer.tokenTtl());
        now.put("activeDeadline", issuer.activeDeadline());
        now.put("destroyGrace", issuer.destroyGrace());
        now.put("approvalTtl", issuer.approvalTtl());
        List<Views.DiffRow> rows = new ArrayList<>();
        List<String> fields = new ArrayList<>(POLICY_FIELDS);
        for (Iterator<String> it = proposed.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!fields.contains(f) && now.containsKey(f)) {
                fields.add(f);
            }
        }
        for (String f : fields) {
            JsonNode to = proposed.get(f);
            if (to == null || to.isNull() || !now.containsKey(f)) {
                continue;
            }
            String from = text(now.get(f));
            String proposedText = to.isArray() ? joined(to) : to.asText();
            if (!same(from, proposedText)) {
                rows.add(new Views.DiffRow(f, from, proposedText));
            }
        }
        return rows;
    }

    private static boolean same(String a, String b) {
        if (Objects.equals(a, b)) {
            return true;
        }
        try {
            return Duration.parse(a).equals(Duration.parse(b));
        } catch (DateTimeParseException | NullPointerException e) {
            return false;
        }
    }

    private static String text(Object o) {
        return o instanceof List<?> l
                ? String.join(", ", l.stream().map(String::valueOf).toList())
                : String.valueOf(o);
    }

    private static String joined(JsonNode array) {
        List<String> parts = new ArrayList<>();
        array.forEach(n -> parts.add(n.asText()));
        return String.join(", ", parts);
    }

    /** The key if the caller may see its issuer. */
    KeyView visibleKey(String kid, SecurityIdentity who) {
        KeyView k = keys.get(kid);
        visibleIssuer(k.issuerId(), who);
        return k;
    }

    List<Views.KeyRow> keysOf(String issuerId) {
        return keys.ofIssuer(issuerId).stream().map(ConsoleViews::keyRow).toList();
    }

    static Views.KeyRow keyRow(KeyView k) {
        return new Views.KeyRow(
                k.kid(),
                k.state().name(),
                k.algorithm(),
                keyShape(k.publicJwk()),
                time(k.createdAt()),
                time(k.activatableAt()),
                time(k.activatedAt()),
                time(k.notAfter()),
                time(k.retiredAt()),
                time(k.verifyUntil()),
                time(k.destroyAt()),
                time(k.destroyedAt()),
                time(k.revokedAt()),
                k.revocationReason(),
                k.hsmObjectMissing(),
                k.issuerId(),
                k.activationRequestId());
    }

    static Views.TimelineRow timelineRow(AuditRecordView r) {
        String details =
                r.details() == null || r.details().isNull() || r.details().isEmpty()
                        ? ""
                        : r.details().toString();
        return new Views.TimelineRow(r.seq(), time(r.time()), r.action(), label(r), r.actor(), r.outcome(), details);
    }

    /** What happened, in words, for the common lifecycle records; the action name stays beside it. */
    static String label(AuditRecordView r) {
        return switch (r.action()) {
            case "key.created" -> "created in the HSM and published";
            case "activation.requested" -> "activation requested";
            case "activation.decision" ->
                r.details() != null
                                && "reject".equals(r.details().path("decision").asText())
                        ? "rejected"
                        : "approved";
            case "activation.approved" -> "quorum reached";
            case "activation.rejected" -> "request rejected";
            case "activation.expired" -> "request expired";
            case "activation.cancelled" -> "request cancelled";
            case "key.activated" -> "activated: now the signer";
            case "key.retired" -> "retired: no longer signs";
            case "key.unpublished" -> "left the JWKS";
            case "key.revoked" -> "revoked";
            case "key.destroyed" -> "destroyed in the HSM";
            default -> "";
        };
    }
}
