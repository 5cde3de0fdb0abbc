package dev.pgferry.admin;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The rows of an admin-console SHOW command, each as column name → text value. */
public final class AdminConsoleRows {
    private AdminConsoleRows() {}

    public static List<Map<String, String>> rows(Connection admin, String command) throws SQLException {
        List<Map<String, String>> out = new ArrayList<>();
        try (Statement st = admin.createStatement(); ResultSet rs = st.executeQuery(command)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                Map<String, String> row = new HashMap<>();
                for (int i = 1; i <= n; i++) {
                    row.put(rs.getMetaData().getColumnName(i), rs.getString(i));
                }
                out.add(row);
            }
        }
        return out;
    }

    /** The SHOW POOLS row of ({@code database}, {@code user}); an AssertionError if there is none. */
    public static Map<String, String> pool(Connection admin, String database, String user) {
        try {
            return rows(admin, "SHOW POOLS").stream()
                    .filter(r -> r.get("database").equals(database) && r.get("user").equals(user)).findFirst()
                    .orElseThrow(() -> new AssertionError("no pool " + database + "/" + user));
        } catch (SQLException e) {
            throw new RuntimeException(e);
        }
    }
}
