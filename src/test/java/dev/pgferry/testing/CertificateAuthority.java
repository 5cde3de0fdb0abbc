package dev.pgferry.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway CA made with openssl, in a directory of its own, that signs a server certificate for 127.0.0.1 and
 * client certificates by subject. Each certificate {@code name} is written as {@code name.pem}, its key as
 * {@code name.key} (PEM PKCS#8, mode 0600 as libpq wants it) and {@code name.pk8} (DER PKCS#8, as pgjdbc's default
 * {@code sslkey} wants it).
 */
public final class CertificateAuthority {
    private final Path dir;
    private final String name;

    private CertificateAuthority(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** A new self-signed CA {@code name} (its certificate {@code dir/name.pem}), valid for two days. */
    public static CertificateAuthority create(Path dir, String name) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".pem",
                "-days", "2", "-subj", "/CN=" + name + " test CA");
        return new CertificateAuthority(dir, name);
    }

    /** The CA's certificate (for {@code ca-file}, {@code sslrootcert}). */
    public Path certificate() {
        return dir.resolve(name + ".pem");
    }

    /** A certificate for 127.0.0.1 and localhost, for the server side. */
    public Path server(String file) throws IOException, InterruptedException {
        return sign(file, "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost");
    }

    /** A client certificate with subject {@code subject} (e.g. {@code /CN=scram_u}). */
    public Path client(String file, String subject) throws IOException, InterruptedException {
        return sign(file, subject, null);
    }

    private Path sign(String file, String subject, String extension) throws IOException, InterruptedException {
        openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", file + ".key", "-out", file + ".csr",
                "-subj", subject);
        List<String> x509 = new ArrayList<>(List.of("x509", "-req", "-in", file + ".csr", "-CA", name + ".pem",
                "-CAkey", name + ".key", "-CAcreateserial", "-out", file + ".pem", "-days", "2"));
        if (extension != null) {
            Path ext = dir.resolve(file + ".ext");
            Files.writeString(ext, extension + "\n");
            x509.addAll(List.of("-extfile", ext.getFileName().toString()));
        }
        openssl(dir, x509.toArray(String[]::new));
        openssl(dir, "pkcs8", "-topk8", "-nocrypt", "-in", file + ".key", "-outform", "DER", "-out", file + ".pk8");
        Files.setPosixFilePermissions(dir.resolve(file + ".key"), PosixFilePermissions.fromString("rw-------"));
        return dir.resolve(file + ".pem");
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: " + output);
        }
    }
}
