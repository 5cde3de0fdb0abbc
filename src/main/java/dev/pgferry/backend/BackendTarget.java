package dev.pgferry.backend;

/** Where a pool's backends live and which database they open. */
public record BackendTarget(String host, int port, String database) {}
