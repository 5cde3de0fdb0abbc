package dev.pgferry.config;

import dev.pgferry.config.pgbouncer.IniException;
import dev.pgferry.config.pgbouncer.PgBouncerIniConfigSource;
import dev.pgferry.config.pgbouncer.PgBouncerIniConfigSourceFactory;
import io.quarkus.runtime.configuration.DurationConverter;
import io.quarkus.runtime.configuration.PathConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * RELOAD's configuration: the {@code pgferry} mapping built again from the sources pgferry started with, where the
 * files are read anew: the pgbouncer.ini (through {@link PgBouncerIniConfigSourceFactory}, so a broken one fails as
 * at start, with file and line) and an {@code application.properties} of the file system (Quarkus's
 * {@code config/application.properties}). Environment and system properties are the process's and cannot change;
 * the jar's own application.properties neither. Blocking file I/O: never on an event loop.
 */
public final class ConfigRebuild {
    /** The last rebuilt configuration, for {@link ConfigOrigin}; null before the first RELOAD. */
    static volatile SmallRyeConfig latest;

    private ConfigRebuild() {}

    /** The rebuilt mapping; throws IllegalArgumentException with the reason when a file is broken. */
    public static PgferryConfig rebuild() {
        SmallRyeConfig started = ConfigProvider.getConfig(ConfigRebuild.class.getClassLoader())
                .unwrap(SmallRyeConfig.class);
        List<ConfigSource> sources = new ArrayList<>();
        for (ConfigSource s : started.getConfigSources()) {
            if (s.getName() != null && s.getName().startsWith(PgBouncerIniConfigSource.NAME_PREFIX)) {
                continue; // read again by the factory below
            }
            sources.add(reread(s));
        }
        SmallRyeConfig rebuilt;
        try {
            rebuilt = new SmallRyeConfigBuilder().withProfiles(started.getProfiles()).addDefaultInterceptors()
                    .withSources(sources).withSources(new PgBouncerIniConfigSourceFactory())
                    .withConverter(Duration.class, 200, new DurationConverter())
                    .withConverter(Path.class, 200, new PathConverter())
                    .withMapping(PgferryConfig.class).withValidateUnknown(false).build();
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IniException) {
                    throw new IllegalArgumentException(t.getMessage(), e);
                }
            }
            throw new IllegalArgumentException(String.valueOf(e.getMessage()), e);
        }
        PgferryConfig config = rebuilt.getConfigMapping(PgferryConfig.class);
        latest = rebuilt;
        return config;
    }

    /** A properties file of the file system read anew; every other source as it is. */
    private static ConfigSource reread(ConfigSource s) {
        String name = s.getName();
        int at = name == null ? -1 : name.indexOf("source=file:");
        if (!(s instanceof PropertiesConfigSource) || at < 0 || !name.endsWith("]")) {
            return s;
        }
        try {
            return new PropertiesConfigSource(new URL(name.substring(at + "source=".length(), name.length() - 1)),
                    s.getOrdinal());
        } catch (IOException e) {
            throw new IllegalArgumentException("could not read " + name + ": " + e.getMessage(), e);
        }
    }
}
