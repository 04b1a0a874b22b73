package dev.keyhold.evidence;

import java.util.HexFormat;

/**
 * One issued token as the ledger keeps it: SHA-256 of the compact JWS as handed out, its {@code jti}, the kid and
 * issuer that signed it, {@code sub}, {@code aud} (the claim as canonical JSON) and {@code iat}/{@code exp}. Never the
 * token itself: the ledger proves issuance without becoming a store of bearer credentials.
 */
public record LedgerEntry(
        byte[] tokenSha256, String jti, String kid, String issuerId, String sub, String aud, long iat, long exp) {

    public String tokenSha256Hex() {
        return HexFormat.of().formatHex(tokenSha256);
    }
}
