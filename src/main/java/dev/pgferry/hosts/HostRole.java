package dev.pgferry.hosts;

/** What a host of a list was last seen to be, from {@code pg_is_in_recovery()} and {@code default_transaction_read_only}. */
public enum HostRole {
    /** Not checked yet, or did not answer: never chosen. */
    UNKNOWN,
    /** Not in recovery, writes allowed by default. */
    PRIMARY,
    /** Not in recovery, but {@code default_transaction_read_only} is on. */
    READ_ONLY_PRIMARY,
    /** In recovery (a streaming or log-shipping replica). */
    STANDBY;

    /** The role of a host that answered the check query. */
    public static HostRole of(boolean inRecovery, boolean defaultReadOnly) {
        if (inRecovery) {
            return STANDBY;
        }
        return defaultReadOnly ? READ_ONLY_PRIMARY : PRIMARY;
    }
}
