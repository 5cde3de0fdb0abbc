package dev.pgferry.hosts;

/**
 * Which hosts of a database's list may serve its backends, in libpq's {@code target_session_attrs} words
 * ({@code pgferry.databases."x".target-role=read-write}, {@code prefer-standby}, ...).
 */
public enum TargetRole {
    /** Accepts writes: not in recovery and {@code default_transaction_read_only} off. The default for a host list. */
    READ_WRITE,
    /** Not in recovery, whatever {@code default_transaction_read_only} says. */
    PRIMARY,
    /** Refuses writes: a standby, or a primary with {@code default_transaction_read_only} on. */
    READ_ONLY,
    /** In recovery. */
    STANDBY,
    /** A standby while one is up, else any host. */
    PREFER_STANDBY,
    /** Any host that answers. */
    ANY;

    /** Whether a host in {@code role} serves this target; {@link #PREFER_STANDBY} matches only standbys here. */
    public boolean accepts(HostRole role) {
        return switch (role) {
            case UNKNOWN -> false;
            case PRIMARY -> this == READ_WRITE || this == PRIMARY || this == ANY;
            case READ_ONLY_PRIMARY -> this == PRIMARY || this == READ_ONLY || this == ANY;
            case STANDBY -> this == READ_ONLY || this == STANDBY || this == PREFER_STANDBY || this == ANY;
        };
    }

    /** The libpq word, as configured. */
    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
