package dev.pgferry.auth.hba;

/** A file that cannot be used as it is; the message names the file and line at fault ({@code hba.conf:3: …}). */
public final class HbaException extends Exception {
    private static final long serialVersionUID = 1L;

    HbaException(String source, int line, String problem) {
        super(source + ":" + line + ": " + problem, null, false, false);
    }

    HbaException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
