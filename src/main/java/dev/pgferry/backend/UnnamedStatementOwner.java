package dev.pgferry.backend;

/**
 * Whoever parsed the unnamed statement a connection holds (a client session's unnamed statement): the next client
 * of the connection parses its own again unless it is that owner.
 */
public interface UnnamedStatementOwner {}
