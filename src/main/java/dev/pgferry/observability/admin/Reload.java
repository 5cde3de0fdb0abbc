package dev.pgferry.observability.admin;

import java.util.List;

/** RELOAD: re-reads the users file; see {@link UsersReload}. */
final class Reload implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("RELOAD");
    }

    @Override
    public String help() {
        return "RELOAD: re-read the users file (also on SIGHUP); other settings need a restart";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        try {
            return AdminResult.done("RELOAD", UsersReload.run(admin.sc));
        } catch (Exception e) {
            throw new AdminException("F0000", "could not reload the users file: " + e.getMessage());
        }
    }
}
