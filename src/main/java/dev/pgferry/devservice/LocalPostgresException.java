package dev.pgferry.devservice;

/** A throwaway PostgreSQL cluster could not be set up, started, queried or stopped. */
public class LocalPostgresException extends RuntimeException {

    public LocalPostgresException(String message) {
        super(message);
    }

    public LocalPostgresException(String message, Throwable cause) {
        super(message, cause);
    }
}
