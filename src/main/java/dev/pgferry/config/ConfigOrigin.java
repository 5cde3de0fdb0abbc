package dev.pgferry.config;

import io.smallrye.config.ConfigValue;
import io.smallrye.config.SmallRyeConfig;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Where the value in force of a {@code pgferry.*} key came from, for SHOW CONFIG: {@code default},
 * {@code environment}, {@code system property}, {@code application.properties:12} or {@code pgbouncer.ini
 * /etc/pgbouncer/pgbouncer.ini:42} (the ini line that set it; {@code pgbouncer.ini default} where PgBouncer's default
 * for a key the file leaves out applies).
 */
public final class ConfigOrigin {
    private ConfigOrigin() {}

    public static String of(String key) {
        SmallRyeConfig config = ConfigRebuild.latest;
        try {
            if (config == null) {
                config = ConfigProvider.getConfig(ConfigOrigin.class.getClassLoader()).unwrap(SmallRyeConfig.class);
            }
        } catch (RuntimeException e) {
            return "";
        }
        ConfigValue v = config.getConfigValue(key);
        String source = v.getSourceName();
        if (source == null || v.getRawValue() == null || source.startsWith("DefaultValuesConfigSource")) {
            return "default";
        }
        String line = v.getLineNumber() > 0 ? ":" + v.getLineNumber() : "";
        if (source.startsWith("EnvConfigSource")) {
            return "environment";
        }
        if (source.startsWith("SysPropConfigSource")) {
            return "system property";
        }
        if (source.startsWith("PropertiesConfigSource") && source.contains("application.properties")) {
            return "application.properties" + line;
        }
        return source + line;
    }
}
