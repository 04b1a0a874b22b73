package dev.keyhold.evidence;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What Keyhold knows about one token. {@code judgement}:
 * <ul>
 *   <li>{@code issued} — the ledger holds it (with its jti, kid, issuer, iat, exp and ledger batch);
 *   <li>{@code forged} — not in the ledger, yet its signature verifies under the Keyhold key {@code kid}, and it
 *       claims to be issued while the ledger was recording: someone else signed with that key;
 *   <li>{@code not_covered} — verifies under a Keyhold key, not in the ledger, but its {@code iat} is before the
 *       ledger's coverage (before the ledger existed, or dropped by retention): cannot be judged;
 *   <li>{@code not_keyhold} — does not verify under any Keyhold key (unknown kid, bad signature, malformed);
 *   <li>{@code unknown} — only a hash was given and the ledger does not hold it.
 * </ul>
 * {@code forged_with_keyhold_key} is set whenever {@code issued} is false: true for {@code forged} and
 * {@code not_covered}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TokenFinding(
        int index,
        String sha256,
        boolean issued,
        @JsonProperty("forged_with_keyhold_key") Boolean forgedWithKeyholdKey,
        String judgement,
        String kid,
        String issuer,
        String jti,
        Long iat,
        Long exp,
        Long batch) {

    public static final String ISSUED = "issued";
    public static final String FORGED = "forged";
    public static final String NOT_COVERED = "not_covered";
    public static final String NOT_KEYHOLD = "not_keyhold";
    public static final String UNKNOWN = "unknown";
}
