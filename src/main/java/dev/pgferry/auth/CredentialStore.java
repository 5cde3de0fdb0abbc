package dev.pgferry.auth;

import java.util.Optional;

/** Where pgferry finds a user's secret. Implementations are safe to read from any thread. */
public interface CredentialStore {

    /** The credential of {@code user}, or empty when the user is unknown. */
    Optional<StoredCredential> lookup(String user);
}
