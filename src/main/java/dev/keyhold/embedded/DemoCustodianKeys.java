package dev.keyhold.embedded;

import dev.keyhold.custodian.ssh.OpenSshKeyFiles;
import dev.keyhold.custodian.ssh.SshSig;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;

/**
 * Development SSH keys of embedded mode's demo custodians: {@code <dataDir>/custodian-keys/<name>} (an unencrypted
 * OpenSSH private key, Ed25519, mode 600, usable by {@code ssh-keygen -Y sign}) and {@code <name>.pub} beside it, made
 * at the first start. They let a newcomer approve from a terminal at once; they are as secret as the demo passwords
 * are public, that is: development only.
 */
public final class DemoCustodianKeys {

    /** The folder under the data directory. */
    public static final String FOLDER = "custodian-keys";

    private static final Set<PosixFilePermission> OWNER_ONLY =
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    private static final Set<PosixFilePermission> OWNER_DIR = EnumSet.of(
            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
    private static final Set<PosixFilePermission> PUBLIC_FILE = EnumSet.of(
            PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.OTHERS_READ);

    /* DER prefixes of an Ed25519 key as PKCS#8 and X.509 (RFC 8410): the 32 key bytes follow. */
    private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private DemoCustodianKeys() {}

    /** One custodian's key: the pair, its authorized_keys line ({@code "ssh-ed25519 AAAA… <name>"}), its file. */
    public record DemoKey(String name, KeyPair pair, String publicKeyLine, Path privateKeyFile) {
        @Override
        public String toString() {
            return "DemoKey[" + name + ", " + privateKeyFile + "]";
        }
    }

    /** The key file of {@code name} under {@code dataDir}. */
    public static Path privateKeyFile(Path dataDir, String name) {
        return dataDir.resolve(FOLDER).resolve(name);
    }

    /**
     * The custodian's key: read from its files if they exist, else generated and written (the private key file is
     * created owner-only before any byte is written).
     */
    public static DemoKey ensure(Path dataDir, String name) {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("not a usable file name for a custodian key: " + name);
        }
        Path file = privateKeyFile(dataDir, name);
        try {
            if (Files.isRegularFile(file)) {
                KeyPair pair = read(Files.readString(file, StandardCharsets.US_ASCII));
                return new DemoKey(name, pair, SshSig.publicKeyLine(pair.getPublic(), name), file);
            }
            Path dir = file.getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
            }
            KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            String line = SshSig.publicKeyLine(pair.getPublic(), name);
            write(dir.resolve(name + ".pub"), line + "\n", PUBLIC_FILE);
            write(file, OpenSshKeyFiles.privateKeyFile(pair, name), OWNER_ONLY);
            return new DemoKey(name, pair, line, file);
        } catch (IOException e) {
            throw new UncheckedIOException("could not make the demo custodian key " + file + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is not available: " + e.getMessage(), e);
        }
    }

    private static void write(Path file, String content, Set<PosixFilePermission> perms) throws IOException {
        Path tmp = Files.createTempFile(
                file.getParent(), "." + file.getFileName(), ".tmp", PosixFilePermissions.asFileAttribute(perms));
        try {
            Files.writeString(tmp, content, StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(tmp, perms); // the umask may have narrowed the public file
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file);
            }
        } catch (FileAlreadyExistsException raced) {
            // another start made it at the same moment; theirs stays
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Reads back an unencrypted OpenSSH Ed25519 private key file ("openssh-key-v1", PROTOCOL.key in OpenSSH): as
     * written by {@link OpenSshKeyFiles#privateKeyFile} or {@code ssh-keygen -t ed25519 -N ''}.
     */
    static KeyPair read(String armored) throws GeneralSecurityException {
        String body = armored.replace("-----BEGIN OPENSSH PRIVATE KEY-----", "")
                .replace("-----END OPENSSH PRIVATE KEY-----", "")
                .replaceAll("\\s", "");
        try (DataInputStream in =
                new DataInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(body)))) {
            byte[] magic = new byte[15];
            in.readFully(magic);
            if (!new String(magic, StandardCharsets.US_ASCII).equals("openssh-key-v1\0")) {
                throw new GeneralSecurityException("not an OpenSSH private key file");
            }
            if (!text(in).equals("none") || !text(in).equals("none")) {
                throw new GeneralSecurityException("an encrypted key file: Keyhold's demo keys have no passphrase");
            }
            bytes(in); // kdf options
            if (in.readInt() != 1) {
                throw new GeneralSecurityException("expected exactly one key");
            }
            bytes(in); // public key blob
            try (DataInputStream priv = new DataInputStream(new ByteArrayInputStream(bytes(in)))) {
                if (priv.readInt() != priv.readInt()) {
                    throw new GeneralSecurityException("damaged key file (check integers differ)");
                }
                if (!text(priv).equals("ssh-ed25519")) {
                    throw new GeneralSecurityException("not an Ed25519 key");
                }
                byte[] pk = bytes(priv);
                byte[] sk = bytes(priv); // seed (32) || public key (32)
                if (pk.length != 32 || sk.length != 64) {
                    throw new GeneralSecurityException("damaged Ed25519 key");
                }
                KeyFactory kf = KeyFactory.getInstance("Ed25519");
                PrivateKey privateKey =
                        kf.generatePrivate(new PKCS8EncodedKeySpec(concat(PKCS8_PREFIX, Arrays.copyOf(sk, 32))));
                PublicKey publicKey = kf.generatePublic(new X509EncodedKeySpec(concat(X509_PREFIX, pk)));
                Arrays.fill(sk, (byte) 0);
                return new KeyPair(publicKey, privateKey);
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new GeneralSecurityException("damaged OpenSSH key file: " + e.getMessage(), e);
        }
    }

    private static byte[] bytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 1 << 16) {
            throw new IOException("implausible length " + n);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    private static String text(DataInputStream in) throws IOException {
        return new String(bytes(in), StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
