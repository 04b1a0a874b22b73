package dev.keyhold.testsupport;

import static dev.keyhold.testsupport.Api.as;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.domain.SigningAlgorithm;
import dev.keyhold.hsm.HsmPort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Signs through the API, and forges tokens with a key's real HSM object (bypassing every API rule). */
@ApplicationScoped
public class Tokens {

    private static final ObjectMapper JSON = new ObjectMapper();
    public static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    @Inject
    HsmPort hsm;

    @Inject
    Sql sql;

    /** Signs {@code claims} for the issuer as {@code signer}; returns the token. */
    public static String sign(String issuerId, Map<String, Object> claims) {
        return Api.sign("signer", issuerId, Map.of("claims", claims))
                .then()
                .statusCode(200)
                .extract()
                .path("token");
    }

    public static Map<String, Object> claims(String issuerId) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("sub", "user-1");
        c.put("aud", "api://" + issuerId);
        return c;
    }

    public static String verdict(String token) {
        return as("auditor")
                .body(Map.of("token", token))
                .post("/v1/verify")
                .then()
                .statusCode(200)
                .extract()
                .path("reason");
    }

    /** A token with any header and payload, signed in the HSM by the key {@code kid} with its own algorithm. */
    public String forge(String kid, Map<String, Object> header, Map<String, Object> payload) {
        String partition = (String) sql.one("select partition_name from signing_key where kid = ?", kid);
        String handle = (String) sql.one("select hsm_handle from signing_key where kid = ?", kid);
        SigningAlgorithm alg =
                SigningAlgorithm.valueOf((String) sql.one("select algorithm from signing_key where kid = ?", kid));
        String input = b64(header) + "." + b64(payload);
        byte[] sig = hsm.sign(partition, handle, alg, input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + B64.encodeToString(sig);
    }

    public static Map<String, Object> header(String alg, String kid) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("alg", alg);
        h.put("kid", kid);
        h.put("typ", "JWT");
        return h;
    }

    /** A payload that passes every later check for the issuer: its iss, its audience, fresh. */
    public Map<String, Object> payload(String issuerId, long nowEpoch) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("iss", sql.one("select issuer_uri from issuer where id = ?", issuerId));
        p.put("sub", "forged");
        p.put("aud", List.of("api://" + issuerId));
        p.put("iat", nowEpoch);
        p.put("exp", nowEpoch + 600);
        return p;
    }

    public static String b64(Map<String, Object> json) {
        try {
            return B64.encodeToString(JSON.writeValueAsBytes(json));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> decode(String part) {
        try {
            return JSON.readValue(Base64.getUrlDecoder().decode(part), Map.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
