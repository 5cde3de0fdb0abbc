package dev.pgferry.differential;

import java.util.List;

/** A run-time parameter the generator sets, with values it picks from (as text, quoted when written in SQL). */
record Param(String name, List<String> values) {

    /**
     * Reported parameters (ParameterStatus: TimeZone, DateStyle, IntervalStyle, application_name, search_path,
     * default_transaction_read_only) and unreported ones pgferry must track from the SQL. Not {@link #CUSTOM}:
     * see there.
     */
    static final List<Param> ALL = List.of(
            new Param("TimeZone", List.of("UTC", "Europe/Paris", "America/New_York")),
            new Param("DateStyle", List.of("ISO, MDY", "SQL, DMY", "German")),
            new Param("IntervalStyle", List.of("postgres", "iso_8601", "sql_standard")),
            new Param("application_name", List.of("app_a", "app_b", "")),
            new Param("search_path", List.of("public", "pg_catalog", "diff")),
            new Param("default_transaction_read_only", List.of("on", "off")),
            new Param("statement_timeout", List.of("5s", "7min", "0")),
            new Param("lock_timeout", List.of("3s", "0")),
            new Param("work_mem", List.of("128kB", "4MB")),
            new Param("extra_float_digits", List.of("0", "1", "3")),
            new Param("bytea_output", List.of("hex", "escape")));

    /**
     * A custom placeholder variable: NULL for {@code current_setting(.., true)} in a session that never set it, ''
     * after a RESET in one that did — and a session cannot forget it (PostgreSQL has no way to remove a placeholder).
     * So through any pool it reads '' where a fresh connection reads NULL once another client of the backend set
     * it: a divergence no pooler can avoid but by never reusing such a backend. Out of the default set; add it with
     * {@code -Ddiff.params=custom}.
     */
    static final Param CUSTOM = new Param("diff.custom", List.of("a", "b"));

    /** {@link #ALL}, with {@link #CUSTOM} where {@code -Ddiff.params=custom} asks for it. */
    static List<Param> configured(List<Param> params) {
        if (!"custom".equals(System.getProperty("diff.params"))) {
            return params;
        }
        List<Param> p = new java.util.ArrayList<>(params);
        p.add(CUSTOM);
        return p;
    }

    /**
     * For pgjdbc and the Vert.x client, which need DateStyle ISO (pgjdbc closes the connection on any other) and
     * parse intervals and bytea in the server's default styles only.
     */
    static final List<Param> FOR_DRIVERS = ALL.stream()
            .filter(p -> !List.of("DateStyle", "IntervalStyle", "bytea_output").contains(p.name()))
            .toList();
}
