package dev.pgferry.devservice;

/** No PostgreSQL server binaries on this machine; the message says what to install. */
public final class PostgresNotInstalledException extends LocalPostgresException {

    public PostgresNotInstalledException(String message) {
        super(message);
    }
}
