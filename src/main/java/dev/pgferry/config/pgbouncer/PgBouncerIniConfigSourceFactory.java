package dev.pgferry.config.pgbouncer;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Adds a {@link PgBouncerIniConfigSource} when {@code pgferry.pgbouncer-ini} (or {@code PGFERRY_PGBOUNCER_INI}) names
 * a file in the other sources. A file pgferry refuses stops the start here, with its file and line. Registered in
 * META-INF/services/io.smallrye.config.ConfigSourceFactory.
 */
public final class PgBouncerIniConfigSourceFactory implements ConfigSourceFactory {
    public static final String PROPERTY = "pgferry.pgbouncer-ini";

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        ConfigValue file = context.getValue(PROPERTY);
        if (file == null || file.getValue() == null || file.getValue().isBlank()) {
            return List.of();
        }
        Path ini = Path.of(file.getValue().trim());
        return List.of(new PgBouncerIniConfigSource(ini, IniMapping.map(ini)));
    }
}
