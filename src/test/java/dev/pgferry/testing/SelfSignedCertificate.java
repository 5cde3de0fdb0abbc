package dev.pgferry.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A throwaway self-signed certificate for 127.0.0.1 and localhost, made with openssl (unencrypted PKCS#8 key). */
public final class SelfSignedCertificate {
    private SelfSignedCertificate() {}

    /** Writes a new key to {@code key} and its certificate to {@code cert}, valid for two days. */
    public static void write(Path key, Path cert) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                key.toString(), "-out", cert.toString(), "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("openssl failed to make a certificate for " + cert + ": " + output);
        }
    }
}
