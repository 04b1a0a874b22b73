package dev.keyhold.evidence;

import dev.keyhold.audit.AuditHash;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ledger's hash chain, in one place so the server and the offline verifier compute the same bytes. Pure JDK and
 * Jackson (through {@link AuditHash#canonicalJson}): no Quarkus, no database.
 *
 * <ul>
 *   <li>a token's line: canonical JSON {@code [position, tokenSha256, jti, kid, issuerId, sub, aud, iat, exp]};
 *   <li>a batch's tokens digest: SHA-256 (hex) over its lines in position order, each followed by {@code \n};
 *   <li>a batch's hash: SHA-256 (hex) over canonical JSON
 *       {@code [seq, recordedAt, node, tokenCount, tokensDigest, prevHash]}; the first batch's prevHash is 64 zeros;
 *   <li>a checkpoint signs canonical JSON {@code {"chain":"ledger","hash","keyId","node","seq","time"}} with the
 *       audit key (ES256, R‖S).
 * </ul>
 */
public final class LedgerHash {

    public static final String GENESIS = AuditHash.GENESIS;

    private LedgerHash() {}

    public static String line(
            int position,
            String tokenSha256Hex,
            String jti,
            String kid,
            String issuerId,
            String sub,
            String aud,
            long iat,
            long exp) {
        List<Object> f = new ArrayList<>();
        f.add(position);
        f.add(tokenSha256Hex);
        f.add(jti);
        f.add(kid);
        f.add(issuerId);
        f.add(sub);
        f.add(aud);
        f.add(iat);
        f.add(exp);
        return AuditHash.canonicalJson(f);
    }

    public static String tokensDigest(List<String> lines) {
        MessageDigest md = sha256();
        for (String l : lines) {
            md.update(l.getBytes(StandardCharsets.UTF_8));
            md.update((byte) '\n');
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static String batchHash(
            long seq, Instant recordedAt, String node, int count, String tokensDigest, String prevHash) {
        List<Object> f = new ArrayList<>();
        f.add(seq);
        f.add(recordedAt.toString());
        f.add(node);
        f.add(count);
        f.add(tokensDigest);
        f.add(prevHash);
        return HexFormat.of()
                .formatHex(sha256().digest(AuditHash.canonicalJson(f).getBytes(StandardCharsets.UTF_8)));
    }

    public static byte[] checkpointBytes(long seq, String hash, Instant time, String node, String keyId) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chain", "ledger");
        m.put("hash", hash);
        m.put("keyId", keyId);
        m.put("node", node);
        m.put("seq", seq);
        m.put("time", time.toString());
        return AuditHash.canonicalJson(m).getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] sha256(byte[] data) {
        return sha256().digest(data);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
