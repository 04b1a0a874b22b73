package dev.keyhold.policy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.domain.CanonicalJson;
import dev.keyhold.domain.IssuerPolicy;
import dev.keyhold.domain.IssuerStatus;
import dev.keyhold.domain.SigningAlgorithm;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The canonical policy document (RFC 8785 JSON) of one issuer version:
 * {@code {"type":"keyhold.policy.v1","issuer","issuerUri","partition","version","previous","status","algorithm",
 * "audiences","signers","approvalsRequired","custodians":[{"name","credentials":[{"id","format","publicKey"}]}],
 * "timing":{...}}}. Pure functions only.
 */
public final class PolicyDocuments {

    public static final String TYPE = "keyhold.policy.v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PolicyDocuments() {}

    /** The fields an issuer row holds, as the document holds them (no version, previous or credentials). */
    public record Fields(
            String issuer,
            String issuerUri,
            String partition,
            IssuerStatus status,
            SigningAlgorithm algorithm,
            List<String> audiences,
            List<String> signers,
            int approvalsRequired,
            List<String> custodians,
            IssuerPolicy timing) {}

    /** A new document: {@code credentials} gives each custodian's credential entries (maps id/format/publicKey...). */
    public static Map<String, Object> document(
            Fields f, int version, String previous, Function<String, List<Map<String, Object>>> credentials) {
        Map<String, Object> d = rowView(f);
        d.put("type", TYPE);
        d.put("version", version);
        d.put("previous", previous);
        List<Map<String, Object>> custodians = new ArrayList<>();
        for (String name : f.custodians()) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("name", name);
            c.put("credentials", new ArrayList<>(credentials.apply(name)));
            custodians.add(c);
        }
        d.put("custodians", custodians);
        return d;
    }

    /** What of a document must equal the issuer row: everything but type, version, previous and credentials. */
    public static Map<String, Object> rowView(Fields f) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("issuer", f.issuer());
        d.put("issuerUri", f.issuerUri());
        d.put("partition", f.partition());
        d.put("status", f.status().name());
        d.put("algorithm", f.algorithm().name());
        d.put("audiences", List.copyOf(f.audiences()));
        d.put("signers", List.copyOf(f.signers()));
        d.put("approvalsRequired", f.approvalsRequired());
        d.put("custodians", List.copyOf(f.custodians()));
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("rotationPeriod", f.timing().rotationPeriod().toString());
        t.put("publishLead", f.timing().publishLead().toString());
        t.put("tokenTtl", f.timing().tokenTtl().toString());
        t.put("activeDeadline", f.timing().activeDeadline().toString());
        t.put("destroyGrace", f.timing().destroyGrace().toString());
        t.put("approvalTtl", f.timing().approvalTtl().toString());
        d.put("timing", t);
        return d;
    }

    /** The same view of a stored document (custodians by name only). */
    public static Map<String, Object> rowView(Map<String, Object> doc) {
        Map<String, Object> d = new LinkedHashMap<>();
        for (String k : List.of(
                "issuer",
                "issuerUri",
                "partition",
                "status",
                "algorithm",
                "audiences",
                "signers",
                "approvalsRequired",
                "timing")) {
            d.put(k, doc.get(k));
        }
        d.put("custodians", custodianNames(doc));
        return d;
    }

    public static String canonical(Map<String, Object> doc) {
        return CanonicalJson.canonicalize(doc);
    }

    public static Map<String, Object> parse(String json) {
        try {
            return JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (Exception e) {
            throw new IllegalArgumentException("not a JSON object");
        }
    }

    /** "sha256:" + base64url(SHA-256(bytes)). */
    public static String digest(String canonical) {
        try {
            return "sha256:"
                    + Base64.getUrlEncoder()
                            .withoutPadding()
                            .encodeToString(MessageDigest.getInstance("SHA-256")
                                    .digest(canonical.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> custodians(Map<String, Object> doc) {
        Object c = doc.get("custodians");
        return c instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
    }

    public static List<String> custodianNames(Map<String, Object> doc) {
        return custodians(doc).stream().map(c -> (String) c.get("name")).toList();
    }

    /** The credential entries of {@code name} in the document (empty when not a custodian). */
    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> credentialsOf(Map<String, Object> doc, String name) {
        return custodians(doc).stream()
                .filter(c -> Objects.equals(c.get("name"), name))
                .flatMap(c -> c.get("credentials") instanceof List<?> l
                        ? ((List<Map<String, Object>>) l).stream()
                        : java.util.stream.Stream.empty())
                .toList();
    }

    /** How many custodians have at least one credential (who could approve anything). */
    public static long custodiansWithCredentials(Map<String, Object> doc) {
        return custodians(doc).stream()
                .filter(c -> c.get("credentials") instanceof List<?> l && !l.isEmpty())
                .count();
    }

    public static int approvalsRequired(Map<String, Object> doc) {
        return ((Number) doc.get("approvalsRequired")).intValue();
    }

    public static int version(Map<String, Object> doc) {
        return ((Number) doc.get("version")).intValue();
    }

    /** The document with the named fields replaced (a copy). */
    public static Map<String, Object> with(Map<String, Object> doc, Map<String, Object> changes) {
        Map<String, Object> d = new LinkedHashMap<>(doc);
        d.putAll(changes);
        return d;
    }

    /** The document without the fields that always differ between two versions (version, previous). */
    public static Map<String, Object> body(Map<String, Object> doc) {
        Map<String, Object> d = new LinkedHashMap<>(doc);
        d.remove("version");
        d.remove("previous");
        return d;
    }

    /** The document's fields other than credentials (custodian names kept). */
    public static Map<String, Object> withoutCredentials(Map<String, Object> doc) {
        Map<String, Object> d = body(doc);
        d.put("custodians", custodianNames(doc));
        return d;
    }

    static Duration duration(Object s) {
        return Duration.parse((String) s);
    }
}
