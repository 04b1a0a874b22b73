package dev.keyhold.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyhold.domain.Key;
import dev.keyhold.store.KeyEntity;
import dev.keyhold.verify.TokenVerifier;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Judges tokens against the ledger and Keyhold's keys (read only). A token not in the ledger is checked against the
 * key its header names, in any state (a destroyed key's public half stays in its row): if the signature verifies,
 * Keyhold's key signed something Keyhold never issued.
 */
@ApplicationScoped
public class EvidenceLookup {

    /** Tokens longer than this are not parsed (no Keyhold token comes near it). */
    static final int MAX_TOKEN_CHARS = 16 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    LedgerStore ledger;

    @Inject
    TokenVerifier verifier;

    /** What the caller gave for one token: the compact JWS, or (reports of rejected tokens) only its hash. */
    record Item(String token, String sha256Hex) {}

    public List<TokenFinding> judgeTokens(List<String> tokens) {
        return judge(tokens.stream().map(t -> new Item(t, null)).toList());
    }

    List<TokenFinding> judge(List<Item> items) {
        List<String> hashes = new ArrayList<>(items.size());
        for (Item i : items) {
            hashes.add(i.token() != null ? sha256Hex(i.token()) : normalisedHash(i.sha256Hex()));
        }
        Map<String, LedgerStore.IssuedToken> hits =
                find(hashes.stream().filter(h -> h != null).distinct().toList());
        Instant coveredFrom = coveredFrom();
        Map<String, Optional<Key>> keys = new HashMap<>();
        List<TokenFinding> out = new ArrayList<>(items.size());
        for (int n = 0; n < items.size(); n++) {
            Item item = items.get(n);
            String hash = hashes.get(n);
            LedgerStore.IssuedToken hit = hash == null ? null : hits.get(hash);
            if (hit != null) {
                out.add(new TokenFinding(
                        n,
                        hash,
                        true,
                        null,
                        TokenFinding.ISSUED,
                        hit.kid(),
                        hit.issuerId(),
                        hit.jti(),
                        hit.iat(),
                        hit.exp(),
                        hit.batch()));
            } else if (item.token() == null) {
                out.add(new TokenFinding(
                        n, hash, false, null, TokenFinding.UNKNOWN, null, null, null, null, null, null));
            } else {
                out.add(unrecorded(n, hash, item.token(), coveredFrom, keys));
            }
        }
        return out;
    }

    private TokenFinding unrecorded(
            int n, String hash, String token, Instant coveredFrom, Map<String, Optional<Key>> keys) {
        JsonNode header = token.length() > MAX_TOKEN_CHARS ? null : part(token, 0);
        String kid = header != null && header.path("kid").isTextual()
                ? header.get("kid").asText()
                : null;
        Key key = kid == null || kid.length() > 128
                ? null
                : keys.computeIfAbsent(
                                kid,
                                k -> QuarkusTransaction.joiningExisting()
                                        .call(() -> KeyEntity.findByKid(k).map(KeyEntity::toKey)))
                        .orElse(null);
        if (key == null || !verifier.signatureVerifies(key, token)) {
            return new TokenFinding(
                    n, hash, false, false, TokenFinding.NOT_KEYHOLD, null, null, null, null, null, null);
        }
        JsonNode payload = part(token, 1);
        JsonNode iat = payload == null ? null : payload.get("iat");
        JsonNode exp = payload == null ? null : payload.get("exp");
        JsonNode jti = payload == null ? null : payload.get("jti");
        Long iatValue = iat != null && iat.canConvertToLong() && iat.isIntegralNumber() ? iat.asLong() : null;
        // Keyhold always sets an integral iat (the signing time): one before the ledger's coverage cannot be judged;
        // a missing or odd one was never Keyhold's.
        boolean covered = iatValue == null || iatValue >= coveredFrom.getEpochSecond();
        return new TokenFinding(
                n,
                hash,
                false,
                true,
                covered ? TokenFinding.FORGED : TokenFinding.NOT_COVERED,
                key.kid(),
                key.issuerId(),
                jti != null && jti.isTextual() ? jti.asText() : null,
                iatValue,
                exp != null && exp.isIntegralNumber() && exp.canConvertToLong() ? exp.asLong() : null,
                null);
    }

    /** The ledger rows of these hashes (hex), one index probe per hash and partition. */
    Map<String, LedgerStore.IssuedToken> find(List<String> hexHashes) {
        return ledger.tokensByHash(hexHashes);
    }

    Instant coveredFrom() {
        return ledger.coveredFrom();
    }

    static String sha256Hex(String token) {
        return HexFormat.of().formatHex(LedgerHash.sha256(token.getBytes(StandardCharsets.UTF_8)));
    }

    /** A SHA-256 given as 64 hex digits or 43 base64url characters, as lower-case hex; null when it is neither. */
    static String normalisedHash(String h) {
        if (h == null) {
            return null;
        }
        if (h.matches("[0-9a-fA-F]{64}")) {
            return h.toLowerCase(java.util.Locale.ROOT);
        }
        if (h.matches("[A-Za-z0-9_-]{43}")) {
            return HexFormat.of().formatHex(Base64.getUrlDecoder().decode(h));
        }
        return null;
    }

    private static JsonNode part(String token, int i) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(Base64.getUrlDecoder().decode(parts[i]));
            return n != null && n.isObject() ? n : null;
        } catch (Exception e) {
            return null;
        }
    }
}
