package dev.pgferry.admin;

import java.util.List;

/** One admin console command, such as {@code SHOW POOLS}. Runs on the console's worker thread, never on an event loop. */
interface AdminCommand {
    /** The leading words that select this command, in upper case: {@code SHOW, POOLS}. */
    List<String> words();

    /** Usage and one line of meaning, for SHOW HELP. */
    String help();

    /** Runs with the words after {@link #words()} as arguments. */
    AdminResult run(AdminContext admin, List<String> args) throws AdminException;

    /** Refuses arguments for a command that takes none. */
    static void noArguments(AdminCommand c, List<String> args) throws AdminException {
        if (!args.isEmpty()) {
            throw AdminException.syntax(String.join(" ", c.words()) + " takes no arguments");
        }
    }
}
