package dev.pgferry.admin;

import java.util.List;

/** RELOAD: re-reads the settings, the users file and the HBA file; see {@link ConfigReload}. */
final class Reload implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("RELOAD");
    }

    @Override
    public String help() {
        return "RELOAD: re-read the settings (pgbouncer.ini, application.properties), the users file and the HBA file (also on SIGHUP)";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        ConfigReload.Outcome outcome = ConfigReload.run(admin.sc);
        if (!outcome.failed().isEmpty()) {
            // the files that did load are in force: say so after the refusal
            throw new AdminException("F0000", String.join("; ", outcome.failed())
                    + (outcome.done().isEmpty() ? "" : "; " + String.join("; ", outcome.done())));
        }
        return AdminResult.done("RELOAD", String.join("; ", outcome.done()));
    }
}
