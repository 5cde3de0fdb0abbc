package dev.pgferry.config.pgbouncer;

import io.smallrye.config.ConfigValue;
import io.smallrye.config.MapBackedConfigValueConfigSource;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The settings of a pgbouncer.ini as a configuration source, below every explicit one: Quarkus's own
 * application.properties in the jar is 250, the operator's config/application.properties 260, environment 300, system
 * properties 400. Each value names its ini file and line ({@code ConfigValue#getLocation}), which SHOW CONFIG shows;
 * a key the file does not set but where PgBouncer's default applies is named {@code pgbouncer.ini default}.
 */
public final class PgBouncerIniConfigSource extends MapBackedConfigValueConfigSource {
    public static final int ORDINAL = 200;
    public static final String NAME_PREFIX = "pgbouncer.ini ";

    PgBouncerIniConfigSource(Path ini, IniMapping.Result result) {
        super(NAME_PREFIX + ini, values(ini, result), ORDINAL);
    }

    private static Map<String, ConfigValue> values(Path ini, IniMapping.Result result) {
        Map<String, ConfigValue> out = new LinkedHashMap<>();
        for (IniMapping.Setting s : result.settings().values()) {
            String name = "pgferry." + s.key();
            IniEntry e = s.origin();
            out.put(name, ConfigValue.builder().withName(name).withValue(s.value()).withRawValue(s.value())
                    .withConfigSourceName(e == null ? NAME_PREFIX + "default" : NAME_PREFIX + e.file())
                    .withConfigSourceOrdinal(ORDINAL).withLineNumber(e == null ? -1 : e.line()).build());
        }
        return out;
    }
}
