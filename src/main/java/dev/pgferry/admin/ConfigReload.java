package dev.pgferry.admin;

import dev.pgferry.auth.hba.HbaException;
import dev.pgferry.auth.hba.HbaFile;
import dev.pgferry.session.SessionContext;
import java.util.ArrayList;
import java.util.List;

/**
 * What RELOAD and SIGHUP re-read: the settings ({@link SettingsReload}: the pgbouncer.ini, a file-system
 * application.properties), the users file ({@link UsersReload}) and pgferry.auth.hba-file. Each file is taken
 * or refused on its own; a refused one leaves what was in force before it, and says why. Blocking file I/O: never
 * call it on an event loop.
 */
final class ConfigReload {
    /** One line per file reloaded, and one per file refused. */
    record Outcome(List<String> done, List<String> failed) {}

    private ConfigReload() {}

    static Outcome run(SessionContext sc) {
        List<String> done = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        try {
            done.add(SettingsReload.run(sc));
        } catch (RuntimeException e) {
            failed.add("could not reload the configuration, the running one stays in force: " + e.getMessage());
        }
        try {
            done.add(UsersReload.run(sc));
        } catch (Exception e) {
            failed.add("could not reload the users file: " + e.getMessage());
        }
        HbaFile hba = sc.hba();
        if (hba != null) {
            try {
                hba.reload();
                done.add("reloaded " + hba.path() + ": " + hba.rules().rules().size() + " HBA lines");
            } catch (HbaException e) {
                failed.add("could not reload pgferry.auth.hba-file, its previous rules stay in force: "
                        + e.getMessage());
            }
        }
        return new Outcome(List.copyOf(done), List.copyOf(failed));
    }
}
