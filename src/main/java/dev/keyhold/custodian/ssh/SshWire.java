package dev.keyhold.custodian.ssh;

import dev.keyhold.custodian.signature.InvalidSignatureException;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The SSH wire encoding (RFC 4251 section 5): {@code uint32} big-endian, {@code string} = uint32 length followed by
 * that many bytes, {@code mpint} = a string holding a two's complement big-endian integer. Readers refuse lengths that
 * run past the end of the buffer or exceed the caller's bound, so a hostile length prefix cannot allocate.
 */
final class SshWire {

    private SshWire() {}

    static final class Reader {
        private final byte[] buf;
        private int pos;
        private final String what;

        Reader(byte[] buf, String what) {
            this.buf = buf;
            this.what = what;
        }

        InvalidSignatureException bad() {
            return new InvalidSignatureException("malformed " + what);
        }

        int u8() {
            if (pos >= buf.length) {
                throw bad();
            }
            return buf[pos++] & 0xff;
        }

        long u32() {
            if (buf.length - pos < 4) {
                throw bad();
            }
            long v = ((long) (buf[pos] & 0xff) << 24)
                    | ((buf[pos + 1] & 0xff) << 16)
                    | ((buf[pos + 2] & 0xff) << 8)
                    | (buf[pos + 3] & 0xff);
            pos += 4;
            return v;
        }

        byte[] raw(int n) {
            if (n < 0 || buf.length - pos < n) {
                throw bad();
            }
            byte[] out = Arrays.copyOfRange(buf, pos, pos + n);
            pos += n;
            return out;
        }

        /** A string of at most {@code max} bytes. */
        byte[] string(int max) {
            long len = u32();
            if (len > max || len > buf.length - pos) {
                throw bad();
            }
            return raw((int) len);
        }

        /** A string that must be valid US-ASCII/UTF-8 text (type names, namespaces, hash names). */
        String text(int max) {
            byte[] b = string(max);
            String s = new String(b, StandardCharsets.UTF_8);
            if (!Arrays.equals(s.getBytes(StandardCharsets.UTF_8), b)) {
                throw bad();
            }
            return s;
        }

        /**
         * A positive mpint of at most {@code maxBytes} magnitude bytes, minimally encoded (a leading zero byte only
         * when the next byte has its high bit set), as every SSH implementation writes it.
         */
        BigInteger positiveMpint(int maxBytes) {
            byte[] b = string(maxBytes + 1);
            if (b.length == 0 || (b[0] & 0x80) != 0) {
                throw bad();
            }
            if (b[0] == 0 && (b.length == 1 || (b[1] & 0x80) == 0)) {
                throw bad();
            }
            if (b.length == maxBytes + 1 && b[0] != 0) {
                throw bad();
            }
            return new BigInteger(1, b);
        }

        boolean done() {
            return pos == buf.length;
        }

        void end() {
            if (pos != buf.length) {
                throw bad();
            }
        }
    }

    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer u8(int v) {
            out.write(v);
            return this;
        }

        Writer u32(long v) {
            out.write((int) (v >>> 24));
            out.write((int) (v >>> 16));
            out.write((int) (v >>> 8));
            out.write((int) v);
            return this;
        }

        Writer raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Writer string(byte[] b) {
            u32(b.length);
            return raw(b);
        }

        Writer string(String s) {
            return string(s.getBytes(StandardCharsets.UTF_8));
        }

        Writer mpint(BigInteger v) {
            return string(v.signum() == 0 ? new byte[0] : v.toByteArray());
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
