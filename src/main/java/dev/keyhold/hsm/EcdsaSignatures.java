package dev.keyhold.hsm;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Converts ECDSA signatures between the DER form PKCS#11 providers return
 * ({@code SEQUENCE { INTEGER r, INTEGER s }}, X9.62) and the fixed-length R‖S form JWS requires
 * (RFC 7518 §3.4). Written out here rather than borrowed so the HSM layer depends on no JOSE library, and
 * strict so a malformed provider output fails loudly instead of producing a token nobody can verify.
 */
public final class EcdsaSignatures {

    private static final int SEQUENCE = 0x30;
    private static final int INTEGER = 0x02;

    private EcdsaSignatures() {}

    /**
     * @param der    a DER-encoded ECDSA signature
     * @param length the JWS signature length: 64 for P-256, 96 for P-384, 132 for P-521
     * @return R‖S, each left-padded with zeros to {@code length / 2} bytes
     * @throws IllegalArgumentException if {@code der} is not a well-formed signature that fits {@code length}
     */
    public static byte[] derToJose(byte[] der, int length) {
        if (der == null) {
            throw new IllegalArgumentException("DER signature is null");
        }
        if (length <= 0 || length % 2 != 0) {
            throw new IllegalArgumentException("JWS signature length must be positive and even: " + length);
        }
        Reader in = new Reader(der);
        if (in.next() != SEQUENCE) {
            throw new IllegalArgumentException("not a DER SEQUENCE");
        }
        int seqLen = in.length();
        if (seqLen != in.remaining()) {
            throw new IllegalArgumentException("DER SEQUENCE length does not match the signature length");
        }
        int half = length / 2;
        byte[] out = new byte[length];
        in.integerInto(out, 0, half);
        in.integerInto(out, half, half);
        if (in.remaining() != 0) {
            throw new IllegalArgumentException("trailing bytes after the DER SEQUENCE content");
        }
        return out;
    }

    /**
     * @param jose R‖S of even length
     * @return the minimal DER encoding of {@code SEQUENCE { INTEGER r, INTEGER s }}
     */
    public static byte[] joseToDer(byte[] jose) {
        if (jose == null || jose.length == 0 || jose.length % 2 != 0) {
            throw new IllegalArgumentException("JWS ECDSA signature must be non-empty and of even length");
        }
        int half = jose.length / 2;
        byte[] r = derInteger(Arrays.copyOfRange(jose, 0, half));
        byte[] s = derInteger(Arrays.copyOfRange(jose, half, jose.length));
        ByteArrayOutputStream out = new ByteArrayOutputStream(jose.length + 9);
        out.write(SEQUENCE);
        writeLength(out, r.length + s.length);
        out.writeBytes(r);
        out.writeBytes(s);
        return out.toByteArray();
    }

    /** A non-negative big-endian magnitude as a minimal DER INTEGER (tag, length, content). */
    private static byte[] derInteger(byte[] magnitude) {
        int start = 0;
        while (start < magnitude.length - 1 && magnitude[start] == 0) {
            start++;
        }
        // DER integers are two's complement: a set high bit needs a 0x00 in front to stay positive.
        boolean pad = (magnitude[start] & 0x80) != 0;
        int contentLen = magnitude.length - start + (pad ? 1 : 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream(contentLen + 3);
        out.write(INTEGER);
        writeLength(out, contentLen);
        if (pad) {
            out.write(0);
        }
        out.write(magnitude, start, magnitude.length - start);
        return out.toByteArray();
    }

    private static void writeLength(ByteArrayOutputStream out, int len) {
        if (len < 0x80) {
            out.write(len);
        } else if (len <= 0xFF) {
            out.write(0x81);
            out.write(len);
        } else {
            // No ECDSA signature on a curve Keyhold could meet comes near 256 content bytes.
            throw new IllegalArgumentException("signature too long for an ECDSA signature");
        }
    }

    private static final class Reader {
        private final byte[] buf;
        private int pos;

        Reader(byte[] buf) {
            this.buf = buf;
        }

        int remaining() {
            return buf.length - pos;
        }

        int next() {
            if (pos >= buf.length) {
                throw new IllegalArgumentException("truncated DER signature");
            }
            return buf[pos++] & 0xFF;
        }

        /** DER definite length: short form, or long form with one byte (0x81), minimal. */
        int length() {
            int b = next();
            if (b < 0x80) {
                return b;
            }
            if (b == 0x81) {
                int len = next();
                if (len < 0x80) {
                    throw new IllegalArgumentException("non-minimal DER length");
                }
                return len;
            }
            throw new IllegalArgumentException("unsupported DER length form");
        }

        /** Reads one positive INTEGER and writes its magnitude right-aligned into {@code out[off, off+size)}. */
        void integerInto(byte[] out, int off, int size) {
            if (next() != INTEGER) {
                throw new IllegalArgumentException("expected a DER INTEGER");
            }
            int len = length();
            if (len == 0 || len > remaining()) {
                throw new IllegalArgumentException("bad DER INTEGER length");
            }
            int start = pos;
            int end = pos + len;
            if ((buf[start] & 0x80) != 0) {
                throw new IllegalArgumentException("negative DER INTEGER in an ECDSA signature");
            }
            if (len > 1 && buf[start] == 0 && (buf[start + 1] & 0x80) == 0) {
                throw new IllegalArgumentException("non-minimal DER INTEGER");
            }
            // Drop the sign byte; what is left must fit the fixed field size.
            while (start < end - 1 && buf[start] == 0) {
                start++;
            }
            int magLen = end - start;
            if (magLen > size) {
                throw new IllegalArgumentException("DER INTEGER longer than " + size + " bytes");
            }
            System.arraycopy(buf, start, out, off + size - magLen, magLen);
            pos = end;
        }
    }
}
