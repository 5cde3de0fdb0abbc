package dev.pgferry.admin;

import java.util.List;
import org.eclipse.microprofile.config.ConfigProvider;

/** SHOW VERSION: pgferry's name and version, one row as PgBouncer answers. */
final class ShowVersion implements AdminCommand {
    @Override
    public List<String> words() {
        return List.of("SHOW", "VERSION");
    }

    @Override
    public String help() {
        return "SHOW VERSION: pgferry's version";
    }

    @Override
    public AdminResult run(AdminContext admin, List<String> args) throws AdminException {
        AdminCommand.noArguments(this, args);
        return AdminResult.rows(List.of("version"), List.of(List.of(version())));
    }

    static String version() {
        String v = ConfigProvider.getConfig().getOptionalValue("quarkus.application.version", String.class)
                .orElse("unknown");
        return "pgferry " + v;
    }
}
