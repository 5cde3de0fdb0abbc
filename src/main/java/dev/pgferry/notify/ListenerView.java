package dev.pgferry.notify;

/**
 * One database's listener connection as SHOW LISTENERS shows it: the login it uses ({@code user}, that of the pool of
 * the subscriber that opened it), its state ({@code open}, {@code connecting}, {@code waiting_to_retry} after a loss,
 * {@code closed}), the server process id while open (0 otherwise), the channels it LISTENs on and the clients
 * subscribed to them (each once).
 */
public record ListenerView(String database, String user, String state, int pid, int channels, int subscribers) {}
