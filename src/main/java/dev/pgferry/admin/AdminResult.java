package dev.pgferry.admin;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a command answers: rows (with a RowDescription) or none, a CommandComplete tag, NoticeResponses, and an
 * action to take once the answer has reached the client (SHUTDOWN). A command that must wait for something
 * (PAUSE waits for transactions to end) answers {@link #later}: the console's worker is free meanwhile, so other
 * admin connections are served, and the answer (or an {@link AdminException}) completes the future.
 */
record AdminResult(List<String> columns, List<List<String>> rows, String tag, List<String> notices,
        Runnable afterSent, CompletableFuture<AdminResult> pending) {

    static AdminResult rows(List<String> columns, List<List<String>> rows) {
        return new AdminResult(columns, rows, "SHOW", List.of(), null, null);
    }

    static AdminResult done(String tag, String notice) {
        return new AdminResult(null, List.of(), tag, notice == null ? List.of() : List.of(notice), null, null);
    }

    /** An answer given when {@code answer} completes, on whichever thread completes it. */
    static AdminResult later(CompletableFuture<AdminResult> answer) {
        return new AdminResult(null, List.of(), null, List.of(), null, answer);
    }

    AdminResult thenRun(Runnable action) {
        return new AdminResult(columns, rows, tag, notices, action, null);
    }
}
