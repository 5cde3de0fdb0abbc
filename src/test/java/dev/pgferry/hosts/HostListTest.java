package dev.pgferry.hosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgferry.hosts.HostList.Address;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostListTest {

    private static final String KEY = "pgferry.databases.\"app\".hosts";

    @Test
    void parsesHostsPortsAndDefaults() {
        assertEquals(List.of(new Address("h1", 5432), new Address("h2", 6000), new Address("::1", 5433),
                        new Address("::1", 6000)),
                HostList.parse(KEY, " h1:5432, h2 ,[::1]:5433,[::1]", 6000));
        assertEquals("[::1]:5433", new Address("::1", 5433).toString());
    }

    @Test
    void anEmptyListNamesTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostList.parse(KEY, " , ", 5432));
        assertTrue(e.getMessage().startsWith(KEY + ": the host list is empty"), e.getMessage());
    }

    @Test
    void aBadPortNamesTheKeyAndTheEntry() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HostList.parse(KEY, "h1:5432,h2:99999", 5432));
        assertTrue(e.getMessage().contains(KEY) && e.getMessage().contains("h2:99999"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HostList.parse(KEY, ":5432", 5432));
        assertThrows(IllegalArgumentException.class, () -> HostList.parse(KEY, "[::1", 5432));
    }
}
