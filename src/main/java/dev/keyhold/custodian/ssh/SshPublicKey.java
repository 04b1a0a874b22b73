package dev.keyhold.custodian.ssh;

import dev.keyhold.custodian.InvalidSignatureException;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * Interim stand-in (ssh-ed25519 only) with the shared design's signatures; the "ssh" branch's class replaces it.
 */
public final class SshPublicKey {

    private final String type;
    private final byte[] blob;

    private SshPublicKey(String type, byte[] blob) {
        this.type = type;
        this.blob = blob;
    }

    public static SshPublicKey parse(String line) {
        if (line == null) {
            throw new InvalidSignatureException("no public key");
        }
        String[] parts = line.trim().split("\\s+");
        if (parts.length < 2) {
            throw new InvalidSignatureException("a public key line is \"type base64 [comment]\"");
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw new InvalidSignatureException("the public key is not base64");
        }
        if (!parts[0].equals("ssh-ed25519")) {
            throw new InvalidSignatureException("unsupported key type " + parts[0]);
        }
        ByteBuffer b = ByteBuffer.wrap(blob);
        try {
            String t = new String(string(b), StandardCharsets.US_ASCII);
            byte[] k = string(b);
            if (!t.equals(parts[0]) || k.length != 32 || b.hasRemaining()) {
                throw new InvalidSignatureException("malformed ssh-ed25519 key");
            }
        } catch (RuntimeException e) {
            throw new InvalidSignatureException("malformed ssh-ed25519 key");
        }
        return new SshPublicKey(parts[0], blob);
    }

    public String type() {
        return type;
    }

    public String canonical() {
        return type + " " + Base64.getEncoder().encodeToString(blob);
    }

    public String fingerprint() {
        try {
            return "SHA256:" + Base64.getEncoder().withoutPadding()
                    .encodeToString(MessageDigest.getInstance("SHA-256").digest(blob));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean securityKey() {
        return type.startsWith("sk-");
    }

    byte[] blob() {
        return blob.clone();
    }

    /** The raw 32-byte Ed25519 key. */
    byte[] ed25519() {
        ByteBuffer b = ByteBuffer.wrap(blob);
        string(b);
        return string(b);
    }

    static byte[] string(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new InvalidSignatureException("truncated SSH data");
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    static void string(ByteArrayOutputStream out, byte[] s) {
        out.write(s.length >>> 24);
        out.write(s.length >>> 16);
        out.write(s.length >>> 8);
        out.write(s.length);
        out.writeBytes(s);
    }
}
