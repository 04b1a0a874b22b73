package dev.keyhold.issuer;

import dev.keyhold.config.KeyholdConfig;
import dev.keyhold.config.TrustSettings;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.error.ValidationException;
import dev.keyhold.error.ValidationException.FieldError;
import dev.keyhold.hsm.HsmPort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Checks an issuer definition field by field and the policy durations against each other and against the JWKS
 * max-age, reporting every fault at once.
 */
@ApplicationScoped
public class IssuerValidator {

    public static final Pattern SLUG = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
    static final int MAX_LIST = 100;
    static final Duration LONGEST = Duration.ofDays(3650);

    public static final IssuerPolicy DEFAULTS = new IssuerPolicy(
            Duration.ofDays(30),
            Duration.ofDays(1),
            Duration.ofHours(1),
            Duration.ofDays(45),
            Duration.ofDays(7),
            Duration.ofDays(2));

    @Inject
    KeyholdConfig config;

    @Inject
    HsmPort hsm;

    @Inject
    TrustSettings trust;

    /** A validated issuer definition, ready to persist. */
    public record Valid(
            String id,
            String issuerUri,
            String partition,
            SigningAlgorithm algorithm,
            List<String> audiences,
            List<String> custodians,
            int approvalsRequired,
            List<String> signers,
            IssuerPolicy policy,
            EvidencePolicy evidence) {}

    public Valid validate(IssuerRequest r) {
        List<FieldError> errors = new ArrayList<>();
        if (r == null) {
            throw new ValidationException(List.of(new FieldError("body", "an issuer definition is required")));
        }
        if (r.id() == null || !SLUG.matcher(r.id()).matches()) {
            errors.add(new FieldError("id", "must match [a-z0-9][a-z0-9-]{0,62}"));
        }
        checkIssuerUri(r.issuerUri(), errors);
        String partition = r.partition() == null ? "default" : r.partition();
        if (partition.equals(config.audit().partition())) {
            errors.add(new FieldError("partition", "'" + partition + "' is reserved for the audit key"));
        } else if (partition.equals(trust.partition())) {
            errors.add(new FieldError("partition", "'" + partition + "' is reserved for the trust key"));
        } else if (!hsm.partitions().contains(partition)) {
            errors.add(new FieldError("partition", "unknown partition; configured: " + issuerPartitions()));
        }
        SigningAlgorithm alg = r.algorithm() == null
                ? SigningAlgorithm.ES256
                : SigningAlgorithm.parse(r.algorithm()).orElse(null);
        if (alg == null) {
            errors.add(new FieldError("algorithm", "must be one of ES256, ES384, RS256, PS256"));
        }
        List<String> audiences = names("audiences", r.audiences(), true, Pattern.compile("\\S{1,256}"), errors);
        List<String> custodians = names("custodians", r.custodians(), true, NAME, errors);
        List<String> signers = names("signers", r.signers(), false, NAME, errors);
        int m = r.approvalsRequired() == null ? config.policy().minApprovals() : r.approvalsRequired();
        if (m < config.policy().minApprovals()) {
            errors.add(new FieldError(
                    "approvalsRequired", "must be at least " + config.policy().minApprovals()));
        } else if (custodians != null && m > custodians.size()) {
            errors.add(new FieldError(
                    "approvalsRequired", "cannot exceed the number of custodians (" + custodians.size() + ")"));
        }
        IssuerPolicy policy = policy(r, errors);
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        return new Valid(
                r.id(),
                r.issuerUri(),
                partition,
                alg,
                audiences,
                custodians,
                m,
                signers,
                policy,
                new EvidencePolicy(
                        Boolean.TRUE.equals(r.suspendOnCompromise()), Boolean.TRUE.equals(r.ledgerBestEffort())));
    }

    /** Validates a policy alone (also used by policy changes). */
    public IssuerPolicy policy(IssuerRequest r, List<FieldError> errors) {
        Duration rotation = duration("rotationPeriod", r.rotationPeriod(), DEFAULTS.rotationPeriod(), false, errors);
        Duration lead = duration("publishLead", r.publishLead(), DEFAULTS.publishLead(), false, errors);
        Duration ttl = duration("tokenTtl", r.tokenTtl(), DEFAULTS.tokenTtl(), false, errors);
        Duration deadline = duration("activeDeadline", r.activeDeadline(), DEFAULTS.activeDeadline(), false, errors);
        Duration grace = duration("destroyGrace", r.destroyGrace(), DEFAULTS.destroyGrace(), true, errors);
        Duration approval = duration("approvalTtl", r.approvalTtl(), DEFAULTS.approvalTtl(), false, errors);
        if (rotation != null && deadline != null && deadline.compareTo(rotation) < 0) {
            errors.add(new FieldError("activeDeadline", "must be at least rotationPeriod"));
        }
        Duration maxAge = config.jwks().maxAge();
        if (lead != null && lead.compareTo(maxAge) <= 0) {
            errors.add(new FieldError(
                    "publishLead",
                    "must exceed the JWKS max-age (" + maxAge + ") so validators' caches hold a key before it signs"));
        }
        if (lead != null && rotation != null && lead.compareTo(rotation) >= 0) {
            errors.add(new FieldError("publishLead", "must be shorter than rotationPeriod"));
        }
        if (ttl != null && rotation != null && ttl.compareTo(rotation) > 0) {
            errors.add(new FieldError("tokenTtl", "must not exceed rotationPeriod"));
        }
        return new IssuerPolicy(rotation, lead, ttl, deadline, grace, approval);
    }

    private List<String> issuerPartitions() {
        return hsm.partitions().stream()
                .filter(p -> !p.equals(config.audit().partition()))
                .filter(p -> !p.equals(trust.partition()))
                .sorted()
                .toList();
    }

    private static void checkIssuerUri(String uri, List<FieldError> errors) {
        if (uri == null || uri.isBlank() || uri.length() > 2048) {
            errors.add(new FieldError("issuerUri", "required, at most 2048 characters"));
            return;
        }
        try {
            URI u = new URI(uri);
            if (!u.isAbsolute()
                    || u.getHost() == null
                    || !("https".equals(u.getScheme()) || "http".equals(u.getScheme()))
                    || u.getFragment() != null
                    || u.getRawQuery() != null) {
                errors.add(new FieldError("issuerUri", "must be an absolute http(s) URI without query or fragment"));
            }
        } catch (URISyntaxException e) {
            errors.add(new FieldError("issuerUri", "is not a URI"));
        }
    }

    private static List<String> names(
            String field, List<String> values, boolean required, Pattern form, List<FieldError> errors) {
        if (values == null || values.isEmpty()) {
            if (required) {
                errors.add(new FieldError(field, "at least one is required"));
                return null;
            }
            return List.of();
        }
        if (values.size() > MAX_LIST) {
            errors.add(new FieldError(field, "at most " + MAX_LIST + " entries"));
            return null;
        }
        if (values.stream().anyMatch(v -> v == null || !form.matcher(v).matches())) {
            errors.add(new FieldError(field, "entries must match " + form.pattern()));
            return null;
        }
        if (new HashSet<>(values).size() != values.size()) {
            errors.add(new FieldError(field, "entries must be distinct"));
            return null;
        }
        return List.copyOf(values);
    }

    private static Duration duration(
            String field, String value, Duration dflt, boolean zeroAllowed, List<FieldError> errors) {
        if (value == null) {
            return dflt;
        }
        Duration d;
        try {
            d = Duration.parse(value);
        } catch (DateTimeParseException e) {
            errors.add(new FieldError(field, "must be an ISO-8601 duration such as PT1H or P30D"));
            return null;
        }
        if (d.isNegative() || (!zeroAllowed && d.isZero()) || d.compareTo(LONGEST) > 0 || d.getNano() != 0) {
            errors.add(new FieldError(
                    field,
                    (zeroAllowed ? "must be zero or positive" : "must be positive")
                            + ", whole seconds, at most 3650 days"));
            return null;
        }
        return d;
    }
}
