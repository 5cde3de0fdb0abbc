package dev.pgferry.observability.admin;

import java.util.List;

/**
 * What a command answers: rows (with a RowDescription) or none, a CommandComplete tag, NoticeResponses, and an
 * action to take once the answer has reached the client (SHUTDOWN).
 */
record AdminResult(List<String> columns, List<List<String>> rows, String tag, List<String> notices,
        Runnable afterSent) {

    static AdminResult rows(List<String> columns, List<List<String>> rows) {
        return new AdminResult(columns, rows, "SHOW", List.of(), null);
    }

    static AdminResult done(String tag, String notice) {
        return new AdminResult(null, List.of(), tag, notice == null ? List.of() : List.of(notice), null);
    }

    AdminResult thenRun(Runnable action) {
        return new AdminResult(columns, rows, tag, notices, action);
    }
}
