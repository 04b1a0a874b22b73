package dev.keyhold.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/** Test helper: checks the ledger's hash chain from a known head to the current one, batch by batch. */
final class LedgerChain {

    record Head(long seq, String hash) {}

    private LedgerChain() {}

    static Head head(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select seq, hash from ledger_head where id = 1");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new Head(rs.getLong("seq"), rs.getString("hash"));
        }
    }

    /**
     * Every batch after {@code from} up to the current head: contiguous seqs, each naming the previous one's hash,
     * its hash and tokens digest recomputed from its rows; the head is the last batch. Returns the token hashes
     * (hex) recorded after {@code from}, asserting none appears twice.
     */
    static Set<String> verifyFrom(Connection c, Head from) throws SQLException {
        Head to = head(c);
        Set<String> seen = new java.util.HashSet<>();
        String prev = from.hash();
        long expected = from.seq() + 1;
        try (PreparedStatement ps = c.prepareStatement("select seq, recorded_at, node, token_count, tokens_digest,"
                + " prev_hash, hash from ledger_batch where seq > ? order by seq")) {
            ps.setLong(1, from.seq());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long seq = rs.getLong("seq");
                    assertThat(seq).as("batches are contiguous").isEqualTo(expected);
                    String digest = tokensDigest(
                            c, seq, rs.getObject("recorded_at", OffsetDateTime.class), rs.getInt("token_count"), seen);
                    assertThat(digest).as("tokens digest of batch " + seq).isEqualTo(rs.getString("tokens_digest"));
                    assertThat(rs.getString("prev_hash"))
                            .as("batch " + seq + " names the previous hash")
                            .isEqualTo(prev);
                    String hash = LedgerHash.batchHash(
                            seq,
                            rs.getObject("recorded_at", OffsetDateTime.class).toInstant(),
                            rs.getString("node"),
                            rs.getInt("token_count"),
                            digest,
                            prev);
                    assertThat(hash).as("hash of batch " + seq).isEqualTo(rs.getString("hash"));
                    prev = hash;
                    expected++;
                }
            }
        }
        assertThat(to.seq()).as("the head is the last batch").isEqualTo(expected - 1);
        assertThat(to.hash()).isEqualTo(prev);
        return seen;
    }

    private static String tokensDigest(Connection c, long seq, OffsetDateTime at, int count, Set<String> seen)
            throws SQLException {
        List<String> lines = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select position, token_sha256, jti, kid, issuer_id, sub, aud,"
                + " iat, exp from ledger_token where batch_seq = ? and recorded_at = ? order by position")) {
            ps.setLong(1, seq);
            ps.setObject(2, at);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    assertThat(rs.getInt("position")).isEqualTo(lines.size());
                    String hex = HexFormat.of().formatHex(rs.getBytes("token_sha256"));
                    assertThat(seen.add(hex))
                            .as("token " + hex + " recorded once")
                            .isTrue();
                    lines.add(LedgerHash.line(
                            rs.getInt("position"),
                            hex,
                            rs.getString("jti"),
                            rs.getString("kid"),
                            rs.getString("issuer_id"),
                            rs.getString("sub"),
                            rs.getString("aud"),
                            rs.getLong("iat"),
                            rs.getLong("exp")));
                }
            }
        }
        assertThat(lines).as("batch " + seq + " holds its token_count rows").hasSize(count);
        return LedgerHash.tokensDigest(lines);
    }
}
